"""The results store and the shipped reference results."""
import pandas as pd

from survey_sim import results

from small_results import small_store, write_small_store


def test_a_fresh_clone_shows_the_reference_results_without_survey_data(tmp_path, monkeypatch):
    monkeypatch.delenv(results.RESULTS_ENV, raising=False)
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "local"))  # no store there yet
    reference = results.export_reference(write_small_store(tmp_path / "measured.parquet"), tmp_path / "reference.parquet")
    monkeypatch.setattr(results, "REFERENCE_RESULTS", reference)
    rows, source = results.shown_results()
    assert source == reference and len(rows) == len(small_store())
    assert not set(results.SURVEY_COLUMNS) & set(rows.columns)  # no real shares, no question texts
    results.append_results(small_store().head(5))  # the user's first evaluation takes over
    rows, source = results.shown_results()
    assert source == tmp_path / "local" / "results" / "results.parquet" and len(rows) == 5


def test_a_named_store_is_shown_even_when_empty(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path / "mine.parquet"))
    rows, source = results.shown_results()
    assert rows.empty and source == tmp_path / "mine.parquet"


def test_rerunning_a_run_replaces_its_rows(tmp_path):
    store = write_small_store(tmp_path / "store.parquet")
    before = results.load_results(store)
    results.append_results(small_store(), store)
    after = results.load_results(store)
    pd.testing.assert_frame_equal(before, after)
