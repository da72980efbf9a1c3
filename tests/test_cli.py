"""The `survey-sim` command line: each subcommand on small inputs, with meaningful exit codes.
Most run on the weightless dummy backend; predict and json_zs also on a tiny transformers model."""
import json

import numpy as np
import pytest
from safetensors.numpy import save_file

from survey_sim.cli import main
from tiny import save_tiny_model

ROWS = [
    {"question": "Is it good?", "options": ["Yes", "No"], "group": "Peru", "id": 7},
    {"question": "How often?", "options": ["Never", "Sometimes", "Often"], "group": "Japan"},
]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def write_rows(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return str(path)


def test_predict_keeps_extra_fields_and_adds_predictions(tiny_dir, tmp_path):
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", tiny_dir, "--input", write_rows(tmp_path / "in.jsonl", ROWS), "--output", str(out)]) == 0
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert written[0]["id"] == 7 and len(written[0]["prediction"]) == 2 and len(written[1]["prediction"]) == 3
    assert all(abs(sum(r["prediction"]) - 1) < 1e-4 for r in written)


def test_predict_rejects_bad_rows_with_line_numbers(tmp_path, capsys):
    bad = write_rows(tmp_path / "bad.jsonl", [ROWS[0], {"question": "Q?", "options": ["only one"], "group": "X"}])
    assert main(["predict", "--model", "dummy", "--input", bad, "--output", str(tmp_path / "o.jsonl")]) == 3
    assert "line 2: field 'options'" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()


def test_evaluate_own_rows_per_group(tmp_path, capsys):
    rows = [{**r, "distribution": [1 / len(r["options"])] * len(r["options"])} for r in ROWS]
    out = tmp_path / "results.csv"
    code = main(["evaluate", "--method", "zero_shot", "--model", "dummy",
                 "--input", write_rows(tmp_path / "rows.jsonl", rows), "--output", str(out)])
    assert code == 0 and out.exists()
    printed = capsys.readouterr().out
    assert "per group" in printed and "Peru" in printed and "Japan" in printed


def test_unknown_method_and_missing_adapter_are_usage_errors(tmp_path, capsys):
    rows = write_rows(tmp_path / "rows.jsonl", [{**ROWS[0], "distribution": [0.5, 0.5]}])
    assert main(["evaluate", "--method", "oracle", "--input", rows]) == 2
    assert main(["evaluate", "--method", "adapter", "--input", rows]) == 2
    assert main(["evaluate", "--model", "dummy", "--batch-size", "0", "--input", rows]) == 2
    assert main(["evaluate", "--model", "dummy", "--max-items", "-1", "--input", rows]) == 2
    errors = capsys.readouterr().err
    assert "unknown method 'oracle'" in errors and "needs --adapter NAME" in errors
    assert "--batch-size must be at least 1, got 0" in errors and "--max-items must be at least 1, got -1" in errors


def test_adapters_list_flags_a_broken_adapter_and_says_why(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "adapters" / "half-copied"
    broken.mkdir(parents=True)
    (broken / "adapter_config.json").write_text("{}")
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path))
    shipped = tmp_path / "shipped" / "best"  # a complete adapter, as committed under adapters/
    shipped.mkdir(parents=True)
    (shipped / "adapter_config.json").write_text("{}")
    (shipped / "survey_sim.json").write_text('{"base_model": "smollm2-135m"}')
    save_file({"lora_A": np.zeros((8, 4), np.float32)}, str(shipped / "adapter_model.safetensors"))
    monkeypatch.setattr("survey_sim.adapters.SHIPPED_ADAPTERS", shipped.parent)
    assert main(["adapters", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    line = next(line for line in lines if line.startswith("half-copied"))
    assert "INVALID: incomplete adapter, missing adapter_model.safetensors, survey_sim.json" in line
    assert "(shipped" not in line and next(line for line in lines if line.startswith("best")).endswith(
        "(shipped with survey-sim: adapters/)")


def test_train_rejects_unknown_config_keys(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"learning_rat": 0.1}))
    assert main(["train", "--config", str(config)]) == 2


def test_missing_data_root_exit_code(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(tmp_path / "nowhere"))
    assert main(["data", "report", "wvs_valid"]) == 3
    assert "SURVEY_SIM_DATA" in capsys.readouterr().err


@pytest.mark.integration
def test_baselines_command_on_real_data(survey_root, tmp_path, capsys):
    out = tmp_path / "b.csv"
    assert main(["--data-root", str(survey_root), "baselines", "--train", "wvs_valid:C1-Q2",
                 "--test", "wvs_valid:C1-Q2", "--methods", "uniform", "loo_mean", "--output", str(out)]) == 0
    table = capsys.readouterr().out
    assert "0.812" in table and "0.664" in table  # paper-compatible 1-JSD of loo_mean and uniform (../shared/README.md)


def test_json_zero_shot_counts_unparseable_answers(tiny_dir, monkeypatch):
    from survey_sim.evaluation import Target, run
    from survey_sim.methods import Context
    from tiny import make_item

    context = Context(model=tiny_dir)
    answers = ['{"A": 70, "B": 30}', "no idea"]  # what the model "generates" for the two rows
    monkeypatch.setattr(context.simulator.tokenizer, "batch_decode", lambda ids, **kw: answers[: len(ids)])
    frame = run("json_zs", [Target("t", "all", [make_item("Peru", k=2), make_item("Japan", k=2)])], context)
    assert frame["coverage"].iloc[0] == 0.5
    assert frame["group"].unique().tolist() == ["Peru"]
    assert frame["pred"].iloc[0] == "[0.7, 0.3]"


def test_json_answers_parse_into_distributions():
    from survey_sim.prompts import parse_json_answer

    assert parse_json_answer('Sure! ```json\n{"A": 60, "B": 40}\n```', 2).tolist() == [0.6, 0.4]
    assert parse_json_answer("I cannot answer that.", 2) is None


def test_an_unexpected_error_keeps_its_type_and_debug_shows_the_traceback(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("survey_sim.evaluation.run", broken)
    rows = write_rows(tmp_path / "rows.jsonl", [{**ROWS[0], "distribution": [0.5, 0.5]}])
    assert main(["evaluate", "--model", "dummy", "--input", rows]) == 1
    assert "error: RuntimeError: boom" in capsys.readouterr().err
    with pytest.raises(RuntimeError, match="boom"):
        main(["--debug", "evaluate", "--model", "dummy", "--input", rows])



def test_adapters_list_says_how_each_adapter_was_trained():
    from survey_sim.cli import how_trained

    assert how_trained({"config": {"objective": "direct"}}) == "direct"
    assert how_trained({"config": {"objective": "shift", "shift_scale": 0.5}}) == "shift (s=0.5)"
    assert how_trained({"config": {"objective": "direct"}, "first_stage": {"name": "kl-run"}}) == "dsa over kl-run"
    assert how_trained({}) == "direct"  # adapters saved before objectives existed


def test_evaluate_runs_an_adapter_on_the_base_model_it_was_trained_on(tmp_path, monkeypatch, capsys):
    adapter = tmp_path / "adapters" / "on-dummy"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}")
    (adapter / "survey_sim.json").write_text('{"base_model": "dummy"}')
    save_file({"lora_A": np.zeros((8, 4), np.float32)}, str(adapter / "adapter_model.safetensors"))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path))
    rows = write_rows(tmp_path / "rows.jsonl", [{**ROWS[0], "distribution": [0.5, 0.5]}])
    assert main(["evaluate", "--method", "adapter", "--adapter", "on-dummy", "--input", rows]) == 0
    assert "dummy" in capsys.readouterr().out  # no --model: the adapter's own base model
    assert main(["evaluate", "--method", "adapter", "--adapter", "on-dummy", "--model", "smollm2-135m",
                 "--input", rows]) == 2
    assert "adapter 'on-dummy' was trained on 'dummy', not --model 'smollm2-135m'" in capsys.readouterr().err


@pytest.mark.fault
def test_a_split_without_rows_is_an_error_not_zero_rows_appended(survey_root, capsys):
    assert main(["--data-root", str(survey_root), "evaluate", "--model", "dummy", "--test", "wvs_valid:C1-Q3"]) == 2
    assert "--test wvs_valid:C1-Q3: no rows" in capsys.readouterr().err


@pytest.mark.parametrize("output, message", [
    ("{rows}", "is also the input"), ("{tmp}/results.txt", "unknown suffix '.txt'"),
    ("{tmp}/missing/results.csv", "does not exist"), ("{tmp}/", "is a folder"),
])
@pytest.mark.fault
def test_a_bad_output_is_refused_before_any_work_and_the_input_survives(tmp_path, capsys, output, message):
    rows = write_rows(tmp_path / "rows.jsonl", [{**ROWS[0], "distribution": [0.5, 0.5]}])
    before = (tmp_path / "rows.jsonl").read_bytes()
    output = output.format(rows=rows, tmp=tmp_path)
    assert main(["evaluate", "--model", "dummy", "--input", rows, "--output", output]) == 2
    assert message in capsys.readouterr().err
    assert (tmp_path / "rows.jsonl").read_bytes() == before
    assert main(["predict", "--model", "dummy", "--input", rows, "--output", rows]) == 2
    assert (tmp_path / "rows.jsonl").read_bytes() == before


def test_evaluate_writes_parquet_by_its_suffix(tmp_path):
    import pandas as pd

    rows = write_rows(tmp_path / "rows.jsonl", [{**ROWS[0], "distribution": [0.5, 0.5]}])
    assert main(["evaluate", "--model", "dummy", "--input", rows, "--output", str(tmp_path / "r.PARQUET")]) == 0
    assert len(pd.read_parquet(tmp_path / "r.PARQUET")) == 5  # one row per metric
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left


@pytest.mark.fault
def test_train_refuses_to_replace_an_adapter_and_overlong_names(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    (tmp_path / "models" / "adapters" / "mine").mkdir(parents=True)
    assert main(["train", "--name", "mine", "--model", "dummy"]) == 2
    error = capsys.readouterr().err
    assert "adapter 'mine' already exists" in error and "give --overwrite to replace it" in error
    assert main(["train", "--name", "x" * 250, "--model", "dummy"]) == 2
    assert "adapter name of 250 characters: at most 100" in capsys.readouterr().err
