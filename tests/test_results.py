"""The results store and the shipped reference results."""
from contextlib import closing

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
    assert source == tmp_path / "local" / "results" / "results.sqlite" and len(rows) == 5


def test_a_named_store_is_shown_even_when_empty(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path / "mine.sqlite"))
    rows, source = results.shown_results()
    assert rows.empty and source == tmp_path / "mine.sqlite"


def test_rerunning_a_run_replaces_its_rows(tmp_path):
    store = write_small_store(tmp_path / "store.sqlite")
    before = results.load_results(store)
    results.append_results(small_store(), store)
    after = results.load_results(store)
    pd.testing.assert_frame_equal(before, after)


APPEND_RUNS = """
import sys
from contextlib import closing

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


@pytest.mark.fault
@pytest.mark.parametrize("name, processes, runs", [("store.sqlite", 8, 20), ("store.parquet", 6, 5)])
def test_concurrent_writers_keep_every_run(tmp_path, name, processes, runs):
    """The issue's stress (8 processes x 20 appends) on the store; the older Parquet layout lighter."""
    from survey_sim.results import load_results

    store = tmp_path / name
    assert concurrent_appends(store, processes, runs) == [0] * processes
    assert len(load_results(store)) == processes * runs  # none lost to another's write


def one_row(method="m") -> pd.DataFrame:
    return pd.DataFrame({"method": [method], "model": [""], "adapter": [""], "dataset": ["d"],
                         "split": ["s"], "metric": ["1-jsd"], "value": [0.5]})


@pytest.mark.fault
@pytest.mark.parametrize("name, kind", [("store.sqlite", "SQLite results store"), ("store.parquet", "Parquet file")])
def test_an_unreadable_store_is_reported_and_never_replaced(tmp_path, name, kind):
    from survey_sim.results import ResultsStoreError, append_results, load_results

    store = tmp_path / name
    store.write_bytes(b"half a store file, or something else entirely" * 40)
    for touch in (lambda: append_results(one_row(), store), lambda: load_results(store)):
        with pytest.raises(ResultsStoreError, match=f"is not a readable {kind}.*nothing was changed"):
            touch()
    assert store.read_bytes() == b"half a store file, or something else entirely" * 40


@pytest.mark.fault
def test_another_programs_database_is_refused_and_left_as_it_was(tmp_path):
    """$SURVEY_SIM_RESULTS pointed at the wrong SQLite file: no runs table is added to it."""
    import sqlite3

    from survey_sim.results import ResultsStoreError, append_results, load_results

    store = tmp_path / "jobs.sqlite"
    with closing(sqlite3.connect(store)) as db, db:
        db.execute("CREATE TABLE jobs (id INTEGER)")
    before = store.read_bytes()
    for touch in (lambda: load_results(store), lambda: append_results(one_row(), store)):
        with pytest.raises(ResultsStoreError, match="not a readable SQLite results store .no runs table, but jobs"):
            touch()
    assert store.read_bytes() == before


def test_reading_a_store_writes_nothing_and_an_empty_database_is_an_empty_store(tmp_path):
    store = write_small_store(tmp_path / "store.sqlite")
    before = store.read_bytes()
    assert len(results.load_results(store)) == len(small_store())
    assert store.read_bytes() == before
    empty = tmp_path / "empty.sqlite"
    empty.touch()  # SQLite reads a zero-byte file as a database without tables
    assert results.load_results(empty).empty and empty.read_bytes() == b""


def test_an_append_writes_only_its_own_runs_and_keeps_every_column(tmp_path):
    """The SQLite store keeps each run apart: an append neither rewrites nor retypes the others."""
    store = write_small_store(tmp_path / "store.sqlite")
    results.append_results(one_row("extra"), store)
    rows = results.load_results(store)
    pd.testing.assert_frame_equal(rows[rows["method"] != "extra"].reset_index(drop=True)[small_store().columns],
                                  small_store())
    assert rows["method"].iloc[-1] == "extra"


def test_an_older_parquet_store_is_imported_once(tmp_path, monkeypatch):
    monkeypatch.delenv(results.RESULTS_ENV, raising=False)
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    older = write_small_store(tmp_path / "models" / "results" / "results.parquet")
    assert len(results.load_results()) == len(small_store())
    assert not older.exists() and older.with_name("results.parquet.imported").is_file()
    results.append_results(one_row("new"))
    assert len(results.load_results(results.default_store())) == len(small_store()) + 1


KEEP_APPENDING = """
import sys
from contextlib import closing

import pandas as pd
from survey_sim.results import append_results
path = sys.argv[1]
for run in range(10_000):  # each run 2,000 rows, so the kill lands mid-write
    append_results(pd.DataFrame({"method": f"m{run}", "model": "", "adapter": "", "dataset": "d", "split": "s",
                                 "metric": "1-jsd", "value": [0.5] * 2000}), path)
    print(run, flush=True)
"""


@pytest.mark.fault
def test_kill_9_mid_append_keeps_every_finished_run_whole(tmp_path):
    import signal
    import subprocess
    import sys

    store = write_small_store(tmp_path / "store.sqlite")
    writer = subprocess.Popen([sys.executable, "-c", KEEP_APPENDING, str(store)], stdout=subprocess.PIPE, text=True)
    finished = [writer.stdout.readline() for _ in range(5)]  # five runs reported appended, a sixth under way
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=60)
    rows = results.load_results(store)
    sizes = rows[rows["method"].str.startswith("m")].groupby("method").size()
    assert len(finished) == 5 and len(sizes) >= 5 and set(sizes) == {2000}  # no run lost, none half-written
    assert len(rows) == len(small_store()) + 2000 * len(sizes)


def test_the_store_exports_to_one_parquet_table(tmp_path, capsys):
    from survey_sim.cli import main

    store = write_small_store(tmp_path / "store.sqlite")
    assert main(["results", "--store", str(store), "--export", str(tmp_path / "all.parquet")]) == 0
    assert f"wrote {len(small_store())} rows" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "all.parquet"), results.load_results(store))
    assert main(["results", "--store", str(store), "--export", str(tmp_path / "all.csv")]) == 2
