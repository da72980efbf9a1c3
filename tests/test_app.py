"""The app's pages on the real data, without an exception (Streamlit's AppTest).

They simulate with the weightless "dummy" backend (simulator.py): what is tested here is the
pages, not the model. One test runs the real default model end to end.
"""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from small_results import write_small_store

APP = str(Path(__file__).resolve().parents[1] / "app.py")
pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def dummy_model(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_SIM_MODEL", "dummy")
    # The experiments' committed tables (results/*.csv) appear on the Leaderboard only where a test puts them.
    monkeypatch.setattr("survey_sim.data_efficiency.TABLE", tmp_path / "no_data_efficiency.csv")
    monkeypatch.setattr("survey_sim.paper_report.TABLE", tmp_path / "no_paper_table.csv")


def test_compare_page_shows_two_countries(survey_root, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="dataset").value == "wvs_valid"  # the first data set of data/datasets.toml
    assert len(at.multiselect[0].value) == 2
    assert at.get("plotly_chart")


def test_switching_data_set_and_question(survey_root, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="dataset").set_value("pew").run()
    assert not at.exception
    box = at.selectbox(key="question:pew")  # a fresh box per data set: no question of the last one lingers
    assert box.value == 0 and at.markdown[0].value.startswith(f"**{box.format_func(0)[:100]}")
    box.select_index(len(box.options) - 1).run()
    assert not at.exception and at.get("plotly_chart")


def test_missing_data_root_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(tmp_path / "nowhere"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.error and "SURVEY_SIM_DATA" in at.error[0].value


def test_data_page_reports_splits_and_drops(survey_root, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/data.py").run()
    assert not at.exception
    at.selectbox(key="data_dataset").set_value("pew").run()
    assert not at.exception
    assert any("dropped" in e.label for e in at.expander)
    assert len(at.dataframe) >= 2  # summary and splits


def test_raw_training_file_is_labelled_on_the_data_page(survey_root, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/data.py").run()
    at.selectbox(key="data_dataset").set_value("wvs_c1q1_paper").run()
    assert not at.exception and at.info and "raw input" in at.info[0].value


def test_compare_page_simulates_with_the_default_model(survey_root, monkeypatch):
    monkeypatch.delenv("SURVEY_SIM_MODEL")  # the real embedded model, end to end
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.radio(key="simulator").set_value(at.radio(key="simulator").options[1]).run()  # zero-shot
    assert not at.exception
    scores = at.dataframe[0].value
    assert list(scores["group"]) == at.multiselect[0].value
    assert ((scores["1-jsd"] > 0) & (scores["1-jsd"] <= 1)).all()


# --- leaderboard and uploads: temporary stores, so nothing depends on local files -------------

VALID_CSV = b"question_id,question,group,option,share\nq1,Happy?,France,Yes,0.7\nq1,Happy?,France,No,0.3\n"
INVALID_JSONL = b'{"question": "Q", "options": ["a", "b"], "group": "X", "shares": [0.5]}'


def open_page(page: str, timeout: int = 60) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout).run()
    return at.switch_page(page).run()


def test_leaderboard_page_shows_methods_by_splits(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(tmp_path / "nowhere"))  # the leaderboard needs no survey files
    monkeypatch.setenv("SURVEY_SIM_RESULTS", str(write_small_store(tmp_path / "results.sqlite")))
    at = open_page("app_pages/leaderboard.py")
    assert not at.exception
    assert at.selectbox(key="leaderboard_metric").value == "1-jsd_paper"
    table = at.dataframe[0].value  # means
    assert list(table.index) == ["uniform", "zero_shot (smollm2-135m)", "adapter:mine"]
    assert list(table.columns) == ["wvs:C1-Q2", "wvs:C1-Q3"]
    assert table.loc["adapter:mine", "wvs:C1-Q2"] == "1.000 [1.000, 1.000]"  # mean [95% interval over questions]
    assert table.loc["adapter:mine", "wvs:C1-Q3"] == "–"
    assert at.dataframe[1].value.loc["zero_shot (smollm2-135m)", "wvs:C1-Q2"] == "2 (50.0%)"
    assert at.get("plotly_chart") and at.get("download_button")
    at.selectbox(key="leaderboard_metric").set_value("emd").run()
    assert not at.exception
    assert "survey-sim results --metric emd --store" in at.code[0].value


def test_leaderboard_page_draws_the_data_efficiency_figure_when_it_has_run(tmp_path, monkeypatch):
    import pandas as pd

    table = pd.DataFrame({"fraction": [0.1, 0.1, 1.0], "seed": [0, 1, 0], "method": ["shift objective"] * 3,
                          "score": [0.80, 0.82, 0.85], "rows": [600] * 3})
    table.to_csv(tmp_path / "data_efficiency.csv", index=False)
    monkeypatch.setattr("survey_sim.data_efficiency.TABLE", tmp_path / "data_efficiency.csv")
    monkeypatch.setenv("SURVEY_SIM_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("SURVEY_SIM_RESULTS", str(write_small_store(tmp_path / "results.sqlite")))
    at = open_page("app_pages/leaderboard.py")
    assert not at.exception and "Data efficiency: fewer training countries" in [h.value for h in at.subheader]
    assert "(2 seed(s) so far)" in " ".join(c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 2


def test_leaderboard_page_shows_the_table_beside_the_paper_even_with_an_empty_store(tmp_path, monkeypatch):
    from test_paper_report import store

    from survey_sim.paper_report import paper_table

    paper_table(store(), "shift:ours").to_csv(tmp_path / "paper_table.csv", index=False)
    monkeypatch.setattr("survey_sim.paper_report.TABLE", tmp_path / "paper_table.csv")
    monkeypatch.setenv("SURVEY_SIM_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("SURVEY_SIM_RESULTS", str(tmp_path / "empty.sqlite"))
    at = open_page("app_pages/leaderboard.py")
    assert not at.exception and "has no rows yet" in at.info[0].value
    assert "Beside the paper (Cao et al., NAACL 2025)" in [h.value for h in at.subheader]
    shown = at.dataframe[0].value
    assert shown["test"].tolist() == ["wvs:C1-Q3"] and shown["Cao et al. 8B"].tolist() == [0.777]


def test_leaderboard_page_on_an_empty_store_says_how_to_fill_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("SURVEY_SIM_RESULTS", str(tmp_path / "empty.sqlite"))
    at = open_page("app_pages/leaderboard.py")
    assert not at.exception and "has no rows yet" in at.info[0].value
    assert "survey-sim baselines --test" in at.code[0].value and not at.dataframe


def test_data_page_stores_a_valid_upload_and_shows_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(tmp_path / "nowhere"))  # uploads work without the survey files
    monkeypatch.setenv("SURVEY_SIM_UPLOADS", str(tmp_path / "uploads"))
    at = open_page("app_pages/data.py")
    at.file_uploader(key="upload_file").set_value(("my rows.csv", VALID_CSV, "text/csv"))
    at.button(key="FormSubmitter:upload_form-Check and store").click().run()
    assert not at.exception and not at.error
    assert "my_rows.csv is valid and stored" in at.success[0].value
    assert (tmp_path / "uploads" / "my_rows.csv").read_bytes() == VALID_CSV
    assert at.selectbox(key="data_dataset").value == "upload:my_rows.csv"  # browsed right away
    assert at.dataframe[1].value["answers"].tolist() == ["Yes 70% | No 30%"]
    at.file_uploader(key="upload_file").set_value(("my rows.csv", VALID_CSV, "text/csv"))
    at.button(key="FormSubmitter:upload_form-Check and store").click().run()
    assert not at.exception and "already uploaded" in at.error[0].value  # replacing needs the checkbox


def test_data_page_names_the_bad_row_of_an_upload(tmp_path, monkeypatch, survey_root):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_UPLOADS", str(tmp_path / "uploads"))
    at = open_page("app_pages/data.py")
    at.file_uploader(key="upload_file").set_value(("bad.jsonl", INVALID_JSONL, "application/json"))
    at.button(key="FormSubmitter:upload_form-Check and store").click().run()
    assert not at.exception and not at.success
    assert "bad.jsonl" in at.error[0].value and "line 1: field 'shares': has 1 values for 2 options" in at.error[0].value
    assert not (tmp_path / "uploads" / "bad.jsonl").exists()
    assert at.selectbox(key="data_dataset").value == "wvs_valid"  # browsing the real data sets is untouched


# --- fine-tune, ask the world, world map, shareable links --------------------------------------

@pytest.fixture
def fine_tune_page(survey_root, tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/fine_tune.py").run()
    assert not at.exception
    return at


def test_the_form_holds_the_papers_recipe(fine_tune_page):
    page = fine_tune_page
    numbers = {n.label: n.value for n in page.number_input}
    assert (numbers["LoRA r"], numbers["LoRA alpha"], numbers["LoRA dropout"]) == (8, 32, 0.05)
    assert numbers["Learning rate"] == 1e-4
    assert next(box for box in page.selectbox if box.label == "Loss").value == "kl"
    assert "Nothing running." in [c.value for c in page.caption]
    base = next(box for box in page.selectbox if box.label == "Base model")  # no free server paths in the app
    assert base.value == "smollm2-135m" and base.options == ["smollm2-135m", "gemma3-270m"]


def test_the_form_is_made_from_every_training_option_and_submits_them(fine_tune_page, monkeypatch):
    from dataclasses import fields

    from survey_sim.jobs import JobQueue
    from survey_sim.training import TrainConfig

    page = fine_tune_page
    widgets = [*page.text_input, *page.number_input, *page.checkbox, *page.selectbox]
    labels = {w.label.split(" (0:")[0]: w for w in widgets}
    for f in fields(TrainConfig):  # each option once, its help as the tooltip
        assert labels[f.metadata["label"]].help.startswith(f.metadata["help"])
    submitted = []

    def submit(queue, config, **kwargs):  # no real run: the config is what is checked
        submitted.append(config)
        raise ValueError("stopped by the test")

    monkeypatch.setattr(JobQueue, "submit", submit)
    labels["Adapter name"].set_value("from-the-form")
    labels["LoRA r"].set_value(4)
    labels["Validation items"].set_value(0)
    page.button(key="FormSubmitter:train-Start fine-tuning").click().run()
    assert not page.exception and "stopped by the test" in page.error[0].value
    assert submitted == [TrainConfig(name="from-the-form", lora_r=4, max_valid_items=None)]


@pytest.mark.fault
def test_the_form_takes_no_free_server_paths_for_models_or_adapters(fine_tune_page, tmp_path):
    """Base models and first-stage adapters come from lists (free paths stay a CLI feature)."""
    ship_adapter(tmp_path / "models" / "adapters", "first-stage", {"base_model": "dummy"})
    at = fine_tune_page.run()  # the page again, now that an adapter is registered
    labels = {box.label for box in at.text_input}
    assert "Base model" not in labels and "First-stage adapter" not in labels
    first = next(box for box in at.selectbox if box.label == "First-stage adapter")
    assert first.value is None and "first-stage" in first.options and "none" in first.options


def test_a_bad_adapter_name_is_refused_with_a_message(fine_tune_page, tmp_path):
    page = fine_tune_page
    page.text_input[0].set_value("no spaces allowed")
    page.button(key="FormSubmitter:train-Start fine-tuning").click().run()
    assert not page.exception
    assert page.error and "adapter name 'no spaces allowed'" in page.error[0].value
    assert not (tmp_path / "models" / "jobs" / "1.config.json").exists()


def test_a_finished_run_can_be_evaluated_from_the_page(survey_root, tmp_path, monkeypatch):
    import sqlite3

    from survey_sim.jobs import JobQueue
    from survey_sim.training import TrainConfig

    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    queue = JobQueue(tmp_path / "models" / "jobs", adapters_root=tmp_path / "models" / "adapters")
    job = queue.submit(TrainConfig(name="finished", model="dummy", valid_dataset="wvs_valid"), start_worker=False)
    with sqlite3.connect(queue.db_path) as db:  # as if its run had ended well
        db.execute("UPDATE jobs SET state = 'done', started = created, finished = created + 60 WHERE id = ?", (job.id,))
    ship_adapter(tmp_path / "models" / "adapters", "finished", {"base_model": "dummy", "config": {
        "valid_dataset": "wvs_valid", "valid_split": "C1-Q2"}})
    monkeypatch.setattr(JobQueue, "ensure_worker", lambda queue: None)  # queued, not run: the queue is tested elsewhere
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/fine_tune.py").run()
    assert not at.exception and "Latest: job 1 (finished) done." in at.success[0].value
    at.button(key=f"evaluate:{job.id}").click().run()
    assert not at.exception
    evaluation = queue.jobs()[0]
    assert evaluation.kind == "evaluate" and evaluation.state == "queued"
    assert evaluation.config["command"][:6] == ["evaluate", "--method", "adapter", "--adapter", "finished", "--test"]
    assert "evaluated (or queued to be)" in " ".join(c.value for c in at.caption)  # asked once, not twice
    history = at.dataframe[0].value
    assert history["minutes"].tolist() == [1.0] and history["best validation 1-JSD"].isna().all()


def test_ask_the_world_maps_every_known_country(survey_root, tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))  # the prediction cache goes here
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("app_pages/ask_the_world.py").run()
    assert not at.exception and at.info  # nothing asked yet
    at.button(key="FormSubmitter:ask-Ask every country").click().run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2
    assert "simulation" in at.warning[0].value
    assert at.caption[0].value.startswith("104 countries simulated")
    at.text_area[1].set_value("Only one option")
    at.button(key="FormSubmitter:ask-Ask every country").click().run()
    assert at.error and "options: 1 given" in at.error[0].value


def test_world_map_scores_one_question_with_either_metric(survey_root, tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("app_pages/world_map.py").run()
    assert not at.exception and len(at.get("plotly_chart")) == 1  # the real majority answers
    at.selectbox(key="map_simulator").set_value("zero-shot (dummy)").run()
    assert not at.exception and len(at.get("plotly_chart")) == 2
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]
    asked = at.selectbox(key="map_question:wvs_valid").format_func(at.selectbox(key="map_question:wvs_valid").value).split()[0]
    assert titles[0].startswith(f"Real: the most common answer to {asked} “")  # each map names its question
    assert f"vs real on {asked} “" in titles[1]
    at.radio(key="map_metric").set_value("emd").run()
    assert not at.exception and len(at.get("plotly_chart")) == 2


def test_world_map_default_pew_question_shows_whole_options(survey_root, tmp_path, monkeypatch):
    """The best-covered Pew question was one whose options global_pew_test.json split at commas:
    its legend listed "Yes" and "respects personal freedoms" as two answers."""
    import json

    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/world_map.py").run()
    at.selectbox(key="map_dataset").set_value("pew").run()
    assert not at.exception
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    legend = {trace["name"] for trace in figure["data"] if trace.get("name")}
    assert legend == {"Yes, respects personal freedoms", "No, does not respect personal freedoms"}, legend


def test_world_map_averages_an_evaluated_split(survey_root, tmp_path, monkeypatch):
    from survey_sim.data import load_dataset, select
    from survey_sim.evaluation import Target, run
    from survey_sim.methods import Context
    from survey_sim.results import append_results

    wvs = load_dataset("wvs_valid", root=survey_root)
    results = run("uniform", [Target("wvs_valid", "C1-Q2", select(wvs, "C1-Q2"))], Context())
    append_results(results, tmp_path / "results.sqlite")
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_RESULTS", str(tmp_path / "results.sqlite"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/world_map.py").run()
    at.radio(key="map_mode").set_value("A split, averaged").run()
    assert not at.exception and len(at.get("plotly_chart")) == 1
    table = at.dataframe[0].value
    assert len(table) == 46 and table["n"].sum() == 1586  # C1-Q2: 46 countries, 1,586 rows
    assert len(at.get("download_button")) == 2  # the table with country shapes: GeoJSON, GeoPackage
    at.radio(key="map_run_metric").set_value("emd").run()
    assert not at.exception
    at.radio(key="map_run_view").set_value("world regions").run()
    assert not at.exception
    regions = at.dataframe[0].value
    assert set(regions["region"]) <= {"Africa", "Asia", "Europe", "North America", "South America", "Oceania"}
    assert regions["region_countries"].sum() == 46
    title = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"]
    assert "mean emd per world region" in title


def test_compare_view_is_kept_in_the_url(survey_root, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="question:wvs_valid").select_index(5).run()
    shared = {key: at.query_params[key] for key in ("dataset", "q", "group", "sim")}
    assert shared["dataset"] == "wvs_valid" and len(shared["group"]) == 2
    opened = AppTest.from_file(APP, default_timeout=60)
    for key, values in shared.items():
        opened.query_params[key] = values
    not_the_default = at.multiselect[0].options[-2:]
    opened.query_params["group"] = not_the_default
    opened.run()
    assert not opened.exception
    assert opened.selectbox(key="question:wvs_valid").value == 5
    assert opened.multiselect[0].value == not_the_default


def test_a_broken_adapter_is_a_message_not_a_traceback(survey_root, tmp_path, monkeypatch):
    """Broken before the page is drawn: not offered. Failing to load after: a message."""
    import numpy as np
    from safetensors.numpy import save_file

    adapters = tmp_path / "models" / "adapters"
    for name in ("broken", "never-finished"):
        (adapters / name).mkdir(parents=True)
        (adapters / name / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 8}')
        (adapters / name / "survey_sim.json").write_text("{}")
    save_file({"lora_A": np.zeros((8, 4), np.float32)}, str(adapters / "broken" / "adapter_model.safetensors"))
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert "broken" in at.radio(key="simulator").options  # never-finished has no weights: not offered
    assert "never-finished" not in at.radio(key="simulator").options

    def fails(*args, **kwargs):  # e.g. deleted or overwritten between drawing the list and loading
        raise ValueError("adapter broken: unreadable weights")

    monkeypatch.setattr("survey_sim.simulator.Simulator.load", fails)
    at.radio(key="simulator").set_value("broken").run()
    assert not at.exception
    assert at.error and "Could not load adapter 'broken': adapter broken: unreadable weights" in at.error[0].value


def ship_adapter(root, name: str, metadata: dict) -> None:
    """A complete adapter folder (the dummy backend reads only its files) as if committed under adapters/."""
    import json

    import numpy as np
    from safetensors.numpy import save_file

    (root / name).mkdir(parents=True)
    (root / name / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 8}')
    (root / name / "survey_sim.json").write_text(json.dumps(metadata))
    save_file({"lora_A": np.zeros((8, 4), np.float32)}, str(root / name / "adapter_model.safetensors"))


def test_the_shipped_shift_adapter_is_every_pages_default(survey_root, tmp_path, monkeypatch):
    ship_adapter(tmp_path / "shipped", "best", {"base_model": "dummy", "config": {"objective": "shift"}})
    ship_adapter(tmp_path / "shipped", "another-base", {"base_model": "smollm2-135m"})
    monkeypatch.setattr("survey_sim.adapters.SHIPPED_ADAPTERS", tmp_path / "shipped")
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception and at.radio(key="simulator").value == "best"
    assert "never sees the country's own answers" in " ".join(c.value for c in at.caption)
    at.switch_page("app_pages/world_map.py").run()
    assert not at.exception and at.selectbox(key="map_simulator").value == "best"
    assert len(at.get("plotly_chart")) == 2  # the real answers and the default simulator's divergence
    at.switch_page("app_pages/ask_the_world.py").run()
    at.button(key="FormSubmitter:ask-Ask every country").click().run()
    assert not at.exception and "simulated with best" in at.caption[0].value
    assert "no country answered this question" in at.caption[0].value


def test_a_link_to_what_is_not_there_says_so(survey_root, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    opened = AppTest.from_file(APP, default_timeout=60)
    opened.query_params.update({"dataset": "wvs_valid", "q": "Q164", "group": ["Japan", "Atlantis"], "sim": "nope"})
    opened.run()
    assert not opened.exception
    assert opened.multiselect[0].value == ["Japan"]
    message = opened.warning[0].value
    assert "“Atlantis”" in message and "“nope”" in message and "Japan" not in message
    missing = AppTest.from_file(APP, default_timeout=60)
    missing.query_params.update({"dataset": "atlantis_survey", "q": "Q999"})
    missing.run()
    assert not missing.exception
    assert "data set “atlantis_survey”" in missing.warning[0].value
    assert "question “Q999” in wvs_valid" in missing.warning[0].value
    plain = AppTest.from_file(APP, default_timeout=60).run()  # no link: nothing to warn about
    assert not plain.exception and not plain.warning


def test_compare_shows_the_default_adapter_beside_zero_shot(survey_root, tmp_path, monkeypatch):
    ship_adapter(tmp_path / "shipped", "best", {"base_model": "dummy"})
    monkeypatch.setattr("survey_sim.adapters.SHIPPED_ADAPTERS", tmp_path / "shipped")
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert at.radio(key="simulator").value == "best"
    assert at.selectbox(key="second_simulator").value == "zero-shot (dummy)"
    assert at.query_params["sim2"] == "zero-shot (dummy)"
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert [bar["name"] for bar in bars[:3]] == [f"{at.multiselect[0].value[0]}: {name}"
                                                for name in ("real", "best", "zero-shot (dummy)")]
    scores = at.dataframe[0].value
    assert sorted(set(scores["simulator"])) == ["best", "zero-shot (dummy)"] and len(scores) == 4
    assert set(scores["training"]) == {"not recorded", "base model: no survey rows"}  # "best" keeps no config
    notes = " ".join(c.value for c in [*at.caption, *at.warning])  # a warning where a simulator is collapsed
    assert notes.count("Between-country variation") == 2 and "of the real variation" in notes
    at.selectbox(key="second_simulator").set_value("real answers only").run()
    assert not at.exception and len(at.dataframe[0].value) == 2


def test_world_map_shows_two_simulators_and_where_one_beats_the_other(survey_root, tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    ship_adapter(tmp_path / "models" / "adapters", "tuned", {"base_model": "dummy"})
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("app_pages/world_map.py").run()
    at.selectbox(key="map_simulator").set_value("tuned").run()
    at.selectbox(key="map_second_simulator").set_value("zero-shot (dummy)").run()
    assert not at.exception
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    assert len(charts) == 4  # real answers, two divergence maps, their difference
    difference = charts[3]
    assert difference["layout"]["title"]["text"].startswith("Where tuned beats zero-shot (dummy)")
    assert (difference["data"][0]["zmin"], difference["data"][0]["zmax"]) == (-0.2, 0.2)
    assert charts[1]["data"][0]["colorbar"]["title"]["text"] == "1-jsd_paper"
    notes = " ".join(c.value for c in [*at.caption, *at.warning])
    assert "tuned is better in" in notes and notes.count("Between-country variation") == 2


def test_robustness_page_shows_the_reports_beside_the_real_answers(survey_root, tmp_path, monkeypatch):
    from survey_sim.data import load_dataset, select
    from survey_sim.evaluation import Target, run
    from survey_sim.methods import Context
    from survey_sim.robustness import robustness_table, save_report

    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    monkeypatch.setattr("survey_sim.robustness.REFERENCE_REPORTS", tmp_path / "none shipped")
    at = open_page("app_pages/robustness.py")
    assert not at.exception and "survey-sim robustness" in at.code[0].value  # nothing yet: how to make one
    wvs = select(load_dataset("wvs_valid", root=survey_root), "C1-Q2")
    rows = run("uniform", [Target("wvs_valid", "C1-Q2", wvs)], Context())
    save_report(robustness_table(rows), "uniform", "wvs_valid:C1-Q2", rows)
    at = open_page("app_pages/robustness.py")
    assert not at.exception and at.multiselect(key="reports").value == ["uniform on wvs_valid:C1-Q2"]
    table = at.dataframe[0].value
    assert table.loc["[ctrl] agreement: 1-JSD to a random other country", "uniform"] == 1.0
    assert "collapsed" in at.warning[0].value  # the same answer for every country


def test_robustness_page_opens_on_the_default_simulator_beside_zero_shot(tmp_path, monkeypatch):
    from survey_sim.robustness import report_path, robustness_table, save_report
    from test_robustness import REAL, items_of, rows_of

    ship_adapter(tmp_path / "shipped", "best", {"base_model": "dummy"})
    monkeypatch.setattr("survey_sim.adapters.SHIPPED_ADAPTERS", tmp_path / "shipped")
    monkeypatch.setattr("survey_sim.robustness.REFERENCE_REPORTS", tmp_path / "reports")
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    rows = rows_of(items_of(REAL), REAL)
    for simulator in ("uniform", "zero_shot (dummy)", "adapter:best"):
        save_report(robustness_table(rows), simulator, "wvs:C1-Q2", rows,
                    report_path(simulator, "wvs:C1-Q2", tmp_path / "reports"))
    at = open_page("app_pages/robustness.py")
    assert not at.exception
    assert at.multiselect(key="reports").value == ["adapter:best on wvs:C1-Q2 (shipped)",
                                                   "zero_shot (dummy) on wvs:C1-Q2 (shipped)"]


def test_the_split_map_can_leave_out_what_the_adapter_saw_in_training(survey_root, tmp_path, monkeypatch):
    from survey_sim.data import load_dataset, select
    from survey_sim.evaluation import tidy_scores
    from survey_sim.results import append_results
    from test_seen import adapter_with_config

    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("SURVEY_SIM_RESULTS", str(tmp_path / "results.sqlite"))
    adapter_with_config(tmp_path / "models" / "adapters", "fold-like", {
        "name": "fold-like", "model": "dummy", "dataset": "wvs_valid", "train_split": "C1-Q2",
        "valid_dataset": "wvs_valid", "valid_split": "C1-Q2", "exclude_groups": ["JPN", "DEU"]})
    rows = list(select(load_dataset("wvs_valid", root=survey_root), "C1-Q2"))
    append_results(tidy_scores(rows, [it.distribution for it in rows], method="adapter", dataset="wvs_valid",
                               split="C1-Q2", model="dummy", adapter="fold-like"), tmp_path / "results.sqlite")
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/world_map.py").run()
    at.radio(key="map_mode").set_value("A split, averaged").run()
    assert not at.exception and len(at.dataframe[0].value) == 46
    at.radio(key="map_run_rows").set_value("unseen countries").run()
    assert not at.exception and sorted(at.dataframe[0].value["iso3"]) == ["DEU", "JPN"]
    at.radio(key="map_run_rows").set_value("unseen questions").run()
    assert not at.exception and "saw all of them in training" in at.info[0].value


def test_subpopulations_read_as_words_and_pew_links_name_questions_by_their_text(survey_root, monkeypatch):
    from survey_sim.data import load_dataset
    from survey_sim.labels import question_token

    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="dataset").set_value("subpop").run()
    assert not at.exception
    groups = at.multiselect[0]
    assert "Political party: Democrat" in groups.options and not any("POLPARTY" in g for g in groups.options)
    assert at.selectbox(key="question:subpop").format_func(0).endswith(f"(GSS {at.query_params['q']})")
    legend = {bar["name"] for bar in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]}
    codes = ("CREGION", "EDUCATION", "INCOME", "POLIDEOLOGY", "POLPARTY", "RACE", "RELIG", "SEX")
    assert legend and not any(code in name for name in legend for code in codes)
    pew = list(load_dataset("pew", root=survey_root))
    token = question_token(pew[-1])
    opened = AppTest.from_file(APP, default_timeout=60)
    opened.query_params.update({"dataset": "pew", "q": token})
    opened.run()
    assert not opened.exception and not opened.warning
    assert opened.markdown[0].value == f"**{pew[-1].question}**" and opened.query_params["q"] == token


def test_an_upload_is_offered_on_compare_and_the_map_without_wvs_splits(tmp_path, monkeypatch, survey_root):
    from survey_sim.data.uploads import save_upload

    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_UPLOADS", str(tmp_path / "uploads"))
    rows = "question_id,question,group,option,share\n" + "".join(
        f"q1,Happy?,{country},{option},{share}\n" for country, shares in
        (("France", (0.7, 0.3)), ("Japan", (0.4, 0.6)), ("Peru", (0.5, 0.5))) for option, share in zip("YN", shares))
    save_upload("mine.csv", rows.encode(), folder=tmp_path / "uploads")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert "mine.csv (your upload)" in at.selectbox(key="dataset").options
    at.selectbox(key="dataset").set_value("upload:mine.csv").run()
    assert not at.exception and at.query_params["dataset"] == "upload:mine.csv"
    assert "your upload" in " ".join(c.value for c in at.caption) and at.get("plotly_chart")
    at.switch_page("app_pages/world_map.py").run()
    at.selectbox(key="map_dataset").set_value("upload:mine.csv").run()
    assert not at.exception and len(at.get("plotly_chart")) == 1
    at.switch_page("app_pages/data.py").run()
    at.selectbox(key="data_dataset").set_value("upload:mine.csv").run()
    assert not at.exception and "Splits" not in [h.value for h in at.subheader]


def test_a_simulator_that_says_the_same_everywhere_is_flagged_and_its_ties_are_grey(survey_root, tmp_path,
                                                                                    monkeypatch):
    import numpy as np

    def the_same_for_everyone(simulator, metadata, items, known=()):
        return [np.full(item.n_options, 1 / item.n_options) for item in items]

    monkeypatch.setattr("survey_sim.methods.predict_as_trained", the_same_for_everyone)
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("app_pages/ask_the_world.py").run()
    at.button(key="FormSubmitter:ask-Ask every country").click().run()
    assert not at.exception
    assert any("near-identical across countries" in w.value for w in at.warning)
    legend = [trace["name"] for trace in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]]
    assert legend[-1].startswith("tie (top answers within")  # not the colour of the first option
    assert "104 countries are drawn as ties" in " ".join(c.value for c in at.caption)
    at.switch_page("app_pages/world_map.py").run()
    at.selectbox(key="map_simulator").set_value("zero-shot (dummy)").run()
    assert not at.exception and any("near-identical across countries" in w.value for w in at.warning)


@pytest.mark.fault
def test_a_retrained_adapter_is_loaded_afresh_not_served_from_memory(survey_root, tmp_path, monkeypatch):
    import numpy as np
    from safetensors.numpy import save_file

    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    adapters = tmp_path / "models" / "adapters"
    ship_adapter(adapters, "retrained", {"base_model": "dummy"})
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.radio(key="simulator").set_value("retrained").run()
    before = at.dataframe[0].value["1-jsd"].tolist()
    save_file({"lora_A": np.ones((8, 4), np.float32)}, str(adapters / "retrained" / "adapter_model.safetensors"))
    again = AppTest.from_file(APP, default_timeout=60).run()  # the same server process: its caches are kept
    again.radio(key="simulator").set_value("retrained").run()
    assert not again.exception and again.dataframe[0].value["1-jsd"].tolist() != before


@pytest.mark.fault
def test_an_unreadable_results_store_is_named_not_a_traceback_and_kept(tmp_path, monkeypatch):
    store = tmp_path / "results.sqlite"
    store.write_bytes(b"not a database")
    monkeypatch.setenv("SURVEY_SIM_RESULTS", str(store))
    for page in ("app_pages/leaderboard.py", "app_pages/world_map.py"):
        at = open_page(page)
        if page.endswith("world_map.py"):
            at.radio(key="map_mode").set_value("A split, averaged").run()
        assert not at.exception and f"results store {store} is not a readable SQLite results store" in at.error[0].value
    assert store.read_bytes() == b"not a database"


def test_the_fine_tune_form_offers_your_uploads(survey_root, tmp_path, monkeypatch):
    from survey_sim.data.uploads import save_upload

    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("SURVEY_SIM_UPLOADS", str(tmp_path / "uploads"))
    save_upload("mine.csv", VALID_CSV, folder=tmp_path / "uploads")
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/fine_tune.py").run()
    assert not at.exception
    training_data = next(box for box in at.selectbox if box.label == "Training data")
    assert "upload:mine.csv" in training_data.options
