"""The results store: one tidy Parquet table that every evaluation appends to.

Writes are atomic (temporary file, then rename), so a crash mid-write never corrupts what
was there. A re-run of the same (method, model, adapter, dataset, split) replaces its rows.
The store is models/results/results.parquet unless $SURVEY_SIM_RESULTS names another file
(tests, or a store shared between checkouts).
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .data.manifest import PROJECT_ROOT

RESULTS_ENV = "SURVEY_SIM_RESULTS"
PROJECT_RESULTS = PROJECT_ROOT / "models" / "results" / "results.parquet"
RUN_KEYS = ["method", "model", "adapter", "dataset", "split"]


def results_path() -> Path:
    """$SURVEY_SIM_RESULTS if set, else the project's store; read at each call so tests can set it."""
    return Path(os.environ.get(RESULTS_ENV) or PROJECT_RESULTS).expanduser()



def load_results(path: str | Path | None = None) -> pd.DataFrame:
    path = Path(path) if path is not None else results_path()
    return pd.read_parquet(path) if path.exists() else pd.DataFrame()


def append_results(new: pd.DataFrame, path: str | Path | None = None) -> Path:
    """Add `new` to the store (default: `results_path()`), replacing earlier rows of the same runs."""
    path = Path(path) if path is not None else results_path()
    old = load_results(path)
    if not old.empty:
        runs = new[RUN_KEYS].drop_duplicates()
        same_run = old[RUN_KEYS].merge(runs, how="left", indicator=True)["_merge"].eq("both").to_numpy()
        new = pd.concat([old[~same_run], new], ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    new.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path
