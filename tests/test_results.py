"""The results store and the shipped reference results."""
import pandas as pd
import pytest

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


APPEND_RUNS = """
import sys
import pandas as pd
from survey_sim.results import append_results
path, worker, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for run in range(runs):
    append_results(pd.DataFrame({"method": [f"m{worker}-{run}"], "model": [""], "adapter": [""], "dataset": ["d"],
                                 "split": ["s"], "metric": ["1-jsd"], "value": [0.5]}), path)
"""


def concurrent_appends(store, processes: int, runs: int) -> list[int]:
    """`processes` separate Python processes, each appending `runs` runs to `store`; their exit codes."""
    import subprocess
    import sys

    started = [subprocess.Popen([sys.executable, "-c", APPEND_RUNS, str(store), str(worker), str(runs)])
               for worker in range(processes)]
    return [process.wait(timeout=300) for process in started]


def test_concurrent_writers_keep_every_run(tmp_path):
    from survey_sim.results import load_results

    store = tmp_path / "store.parquet"
    assert concurrent_appends(store, processes=6, runs=5) == [0] * 6
    assert len(load_results(store)) == 30  # 6 processes x 5 appends: none lost to another's write


def test_an_unreadable_store_is_reported_and_never_replaced(tmp_path):
    import pandas as pd

    from survey_sim.results import ResultsStoreError, append_results

    store = tmp_path / "store.parquet"
    store.write_bytes(b"half a parquet file")
    with pytest.raises(ResultsStoreError, match="is not a readable Parquet file"):
        append_results(pd.DataFrame({"method": ["m"], "model": [""], "adapter": [""], "dataset": ["d"],
                                     "split": ["s"], "metric": ["1-jsd"], "value": [0.5]}), store)
    assert store.read_bytes() == b"half a parquet file"
