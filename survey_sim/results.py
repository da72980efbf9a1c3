"""The results store: the tidy score rows of every evaluation, one SQLite row per run.

A run is one (method, model, adapter, dataset, split); its tidy rows (scores per question,
country and metric) are kept as Parquet bytes in the `runs` table, keyed by those five names.
Appending is one SQLite transaction per call, so concurrent evaluations (several `survey-sim
evaluate` processes, the app's jobs) wait for each other instead of losing each other's runs,
a kill -9 mid-write leaves the store as it was before that append (SQLite's journal), and an
append writes only its own runs instead of rewriting the whole store. A re-run of the same run
replaces its rows.

The store is models/results/results.sqlite unless $SURVEY_SIM_RESULTS names another file
(tests, or a store shared between checkouts). A `.parquet` path is a plain Parquet table:
the shipped reference results, exports (`survey-sim results --export`) and stores of older
versions, which are read as they are and appended to under an exclusive lock (rewritten whole
each time). An older store at models/results/results.parquet is imported once.

A fresh clone has no store yet; it shows the project's reference results instead
(`results/reference.parquet`, made by `experiments/reference_results.sh`): the same tidy rows
(scores per question, country and metric) without the real answer shares, the predictions and
the question texts, which belong to or derive from the surveys, not this repo.
"""
from __future__ import annotations

import fcntl
import io
import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pandas as pd

from .cache import damaged
from .paths import PROJECT_ROOT, models_dir

RESULTS_ENV = "SURVEY_SIM_RESULTS"
REFERENCE_RESULTS = PROJECT_ROOT / "results" / "reference.parquet"
RUN_KEYS = ["method", "model", "adapter", "dataset", "split"]
# Kept out of the shipped reference file: the surveys' own answer shares and question texts, and
# the predictions (those of the mean-of-countries baselines are averages of real shares).
SURVEY_COLUMNS = ["real", "pred", "question"]
SCHEMA = """CREATE TABLE IF NOT EXISTS runs (
    method TEXT NOT NULL, model TEXT NOT NULL, adapter TEXT NOT NULL, dataset TEXT NOT NULL, split TEXT NOT NULL,
    written REAL NOT NULL,  -- unix time of the append
    rows BLOB NOT NULL,     -- the run's tidy rows, as Parquet bytes (exact dtypes, any columns)
    PRIMARY KEY (method, model, adapter, dataset, split))"""
WAIT_S = 300  # how long an append waits for another process's (SQLite's busy timeout)


def default_store() -> Path:
    return models_dir() / "results" / "results.sqlite"


def results_path() -> Path:
    """$SURVEY_SIM_RESULTS if set, else models/results/results.sqlite; looked up at each call."""
    return Path(os.environ.get(RESULTS_ENV) or default_store()).expanduser()


class ResultsStoreError(ValueError):
    """The store exists but cannot be read: it is reported, never replaced (it holds results)."""


def is_parquet(path: Path) -> bool:
    return path.suffix == ".parquet"


def load_results(path: str | Path | None = None) -> pd.DataFrame:
    """Every run's rows in the store (default: `results_path()`), oldest append first."""
    path = Path(path) if path is not None else results_path()
    adopt_older_store(path)
    if not path.exists():
        return pd.DataFrame()
    if is_parquet(path):
        return read_parquet_store(path)
    try:
        with closing(connect(path, for_writing=False)) as db:
            blobs = stored_runs(db)
        runs = [pd.read_parquet(io.BytesIO(blob)) for blob in blobs]
    except (sqlite3.Error, OSError, ValueError) as err:  # not a database, malformed, or a damaged run
        raise unreadable(path, "SQLite results store", err) from None
    return pd.concat(runs, ignore_index=True) if runs else pd.DataFrame()


def append_results(new: pd.DataFrame, path: str | Path | None = None) -> Path:
    """Add `new` to the store (default: `results_path()`), replacing earlier rows of the same runs."""
    path = Path(path) if path is not None else results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    adopt_older_store(path)
    return append_parquet(new, path) if is_parquet(path) else append_sqlite(new, path)


def append_sqlite(new: pd.DataFrame, path: Path) -> Path:
    runs = [(*run_key(key), time.time(), parquet_bytes(rows))
            for key, rows in new.groupby(RUN_KEYS, dropna=False, sort=False)]
    try:
        with closing(connect(path)) as db, db:  # one transaction: every run of this append, or none
            db.execute("BEGIN IMMEDIATE")  # take the write lock now, so a concurrent append waits
            db.executemany("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)", runs)
    except sqlite3.Error as err:
        raise unreadable(path, "SQLite results store", err) from None
    return path


def connect(path: Path, for_writing: bool = True) -> sqlite3.Connection:
    """A connection that opens its transactions explicitly. Only a writer creates the table, and
    never in another program's database; a reader alters nothing (it still opens read-write, so
    that SQLite can roll back the journal of an append that was killed)."""
    db = sqlite3.connect(path, timeout=WAIT_S, isolation_level=None)
    try:
        tables = table_names(db)
        if tables and "runs" not in tables:
            raise sqlite3.DatabaseError(f"no runs table, but {', '.join(sorted(tables))}: another program's database?")
        if for_writing:
            db.execute(SCHEMA)
    except sqlite3.Error:
        db.close()
        raise
    return db


def table_names(db: sqlite3.Connection) -> set[str]:
    return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def stored_runs(db: sqlite3.Connection) -> list[bytes]:
    """Each run's Parquet bytes, oldest append first (none from an empty database)."""
    if "runs" not in table_names(db):
        return []
    return [blob for (blob,) in db.execute("SELECT rows FROM runs ORDER BY written, rowid")]


def run_key(key: tuple) -> tuple[str, ...]:
    """A run's five names as text; a missing name is "" (SQLite keys never equal NULL to NULL)."""
    return tuple("" if pd.isna(name) else str(name) for name in key)


def parquet_bytes(rows: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    rows.to_parquet(buffer, index=False)
    return buffer.getvalue()


def unreadable(path: Path, kind: str, err: Exception) -> ResultsStoreError:
    if isinstance(err, sqlite3.OperationalError) and not damaged(err):  # e.g. locked past WAIT_S
        return ResultsStoreError(f"results store {path} could not be used ({err}); nothing was changed: try again")
    return ResultsStoreError(f"results store {path} is not a readable {kind} ({str(err).splitlines()[0]}); "
                             f"nothing was changed: move it aside or name another store with ${RESULTS_ENV}")


def read_parquet_store(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        raise unreadable(path, "Parquet file", err) from None


def append_parquet(new: pd.DataFrame, path: Path) -> Path:
    """A Parquet store: read, merge and replace the whole file under an exclusive lock."""
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held until the file is replaced: read, merge and write as one
        old = read_parquet_store(path) if path.exists() else pd.DataFrame()
        if not old.empty:
            runs = new[RUN_KEYS].drop_duplicates()
            same_run = old[RUN_KEYS].merge(runs, how="left", indicator=True)["_merge"].eq("both").to_numpy()
            new = pd.concat([old[~same_run], new], ignore_index=True)
        write_parquet(new, path)
    return path


def write_parquet(rows: pd.DataFrame, path: Path) -> Path:
    """Through a partial file, so a crash never leaves half a table under `path`."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    rows.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def adopt_older_store(path: Path) -> None:
    """Import models/results/results.parquet (the store of versions before SQLite) into the default
    store once; the old file is kept, renamed *.imported. Idempotent if two processes race."""
    older = path.with_suffix(".parquet")
    if path != default_store() or path.exists() or not older.is_file():
        return
    append_sqlite(read_parquet_store(older), path)
    try:
        older.rename(older.with_name(older.name + ".imported"))
    except FileNotFoundError:  # another process imported it at the same moment
        pass


def shown_results() -> tuple[pd.DataFrame, Path]:
    """(rows, their file): the store when it has rows or was named by $SURVEY_SIM_RESULTS, else the
    shipped reference results."""
    local = load_results()
    if not local.empty or os.environ.get(RESULTS_ENV):
        return local, results_path()
    return load_results(REFERENCE_RESULTS), REFERENCE_RESULTS


def export_reference(store: str | Path, path: str | Path = REFERENCE_RESULTS) -> Path:
    """Write `store`'s rows, less the survey's own data, as the reference results (atomically)."""
    rows = load_results(store).drop(columns=SURVEY_COLUMNS, errors="ignore")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_parquet(rows, path)


def export_results(path: str | Path, store: str | Path | None = None) -> Path:
    """Every row of the store (default: `results_path()`) as one Parquet table at `path`."""
    return write_parquet(load_results(store), Path(path))
