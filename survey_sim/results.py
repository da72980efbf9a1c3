"""The results store: one tidy Parquet table that every evaluation appends to.

Writes are atomic (temporary file, then rename), so a crash mid-write never corrupts what
was there, and serialised by an exclusive lock on a sibling `.lock` file, so concurrent
evaluations (several `survey-sim evaluate` processes, the app's jobs) never lose each other's
rows to a read-merge-replace race. A re-run of the same (method, model, adapter, dataset,
split) replaces its rows.
The store is models/results/results.parquet unless $SURVEY_SIM_RESULTS names another file
(tests, or a store shared between checkouts).

A fresh clone has no store yet; it shows the project's reference results instead
(`results/reference.parquet`, made by `experiments/reference_results.sh`): the same tidy rows
(scores per question, country and metric) without the real answer shares, the predictions and
the question texts, which belong to or derive from the surveys, not this repo.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pandas as pd

from .paths import PROJECT_ROOT, models_dir

RESULTS_ENV = "SURVEY_SIM_RESULTS"
REFERENCE_RESULTS = PROJECT_ROOT / "results" / "reference.parquet"
RUN_KEYS = ["method", "model", "adapter", "dataset", "split"]
# Kept out of the shipped reference file: the surveys' own answer shares and question texts, and
# the predictions (those of the mean-of-countries baselines are averages of real shares).
SURVEY_COLUMNS = ["real", "pred", "question"]


def default_store() -> Path:
    return models_dir() / "results" / "results.parquet"


def results_path() -> Path:
    """$SURVEY_SIM_RESULTS if set, else models/results/results.parquet; looked up at each call."""
    return Path(os.environ.get(RESULTS_ENV) or default_store()).expanduser()



class ResultsStoreError(ValueError):
    """The store exists but cannot be read: it is reported, never replaced (it holds results)."""


def load_results(path: str | Path | None = None) -> pd.DataFrame:
    path = Path(path) if path is not None else results_path()
    if not path.exists():
        return pd.DataFrame()
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        raise ResultsStoreError(f"results store {path} is not a readable Parquet file ({str(err).splitlines()[0]}); "
                                f"nothing was changed: move it aside or name another store with ${RESULTS_ENV}") from None


def append_results(new: pd.DataFrame, path: str | Path | None = None) -> Path:
    """Add `new` to the store (default: `results_path()`), replacing earlier rows of the same runs."""
    path = Path(path) if path is not None else results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held until the file is replaced: read, merge and write as one
        old = load_results(path)
        if not old.empty:
            runs = new[RUN_KEYS].drop_duplicates()
            same_run = old[RUN_KEYS].merge(runs, how="left", indicator=True)["_merge"].eq("both").to_numpy()
            new = pd.concat([old[~same_run], new], ignore_index=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        new.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    return path


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
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    rows.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path
