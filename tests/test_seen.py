"""What a simulator saw in training, replayed from its adapter's own record (survey_sim.seen)."""
import pandas as pd
import pytest

from survey_sim.seen import FILTERS, NOTHING, Seen, mark_rows, seen_in_training

pytestmark = pytest.mark.integration  # reads the real survey files


def adapter_with_config(root, name: str, config: dict) -> None:
    from test_app import ship_adapter

    ship_adapter(root, name, {"base_model": "dummy", "data": "wvs_valid:C1-Q2", "config": config})


def test_an_adapters_training_rows_are_replayed_from_its_config(survey_root, tmp_path, monkeypatch):
    from survey_sim.data import load_dataset, select

    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    adapter_with_config(tmp_path / "models" / "adapters", "half", {
        "name": "half", "model": "dummy", "dataset": "wvs_valid", "train_split": "C1-Q2", "valid_dataset": "wvs_valid",
        "valid_split": "C1-Q2", "exclude_groups": ["JPN"], "group_fraction": 0.5, "seed": 3})
    seen = seen_in_training("half", survey_root)
    rows = list(select(load_dataset("wvs_valid", root=survey_root), "C1-Q2"))
    countries = {it.iso3 for it in rows}
    assert "JPN" not in seen.groups and 15 <= len(seen.groups) <= 30 and seen.groups < countries  # half of 45
    assert seen.questions == {it.key for it in rows}
    japan = next(it for it in rows if it.iso3 == "JPN")
    assert seen.describe(japan) == "country unseen, question seen" and not seen.row(japan)
    assert seen_in_training(None) is NOTHING


def test_an_adapter_without_a_recorded_config_says_so(tmp_path, monkeypatch):
    from test_app import ship_adapter

    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    ship_adapter(tmp_path / "models" / "adapters", "unknown", {"base_model": "dummy"})
    assert seen_in_training("unknown") is None


def test_result_rows_are_filtered_by_what_was_seen():
    seen = Seen(frozenset({"FRA"}), frozenset({("wvs", "Q1")}))
    rows = pd.DataFrame({"iso3": ["FRA", "FRA", "DEU", None], "group": ["France", "France", "Germany", "Bavaria"],
                         "question_id": ["Q1", "Q2", "Q1", "Q2"]})
    marked = mark_rows(rows, seen, "wvs")
    assert marked["seen_group"].tolist() == [True, True, False, False]
    assert marked["seen_question"].tolist() == [True, False, True, False]
    assert {name: len(keep(marked)) for name, keep in FILTERS.items()} == {
        "all rows": 4, "unseen countries": 2, "unseen questions": 2, "unseen countries and questions": 1}
