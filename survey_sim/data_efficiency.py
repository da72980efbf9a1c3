"""The data-efficiency comparison (issue #13; Huang et al.'s claim for DSA), as a table.

`experiments/data_efficiency.sh` trains each objective on a seeded share of the training
countries and scores it on held-out countries, one results store per draw
(`f{fraction}-s{seed}.parquet`, adapters `de-{objective}-f{fraction}-s{seed}`). This module
reads those stores into one tidy table (a row per draw and method: the mean score over the rows
every method of that draw scored), which the README's PNG and the app's figure are drawn from
(`charts.data_efficiency_figure`).
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .bootstrap import labelled
from .results import load_results

TABLE = Path(__file__).resolve().parents[1] / "results" / "data_efficiency.csv"
DRAW = re.compile(r"^f(?P<fraction>[0-9.]+)-s(?P<seed>\d+)$")
# What each run of a draw is, in the figure's words, by its label in the store (without the draw suffix).
METHOD_NAMES = {
    "adapter:de-direct": "KL (the paper's objective)",
    "adapter:de-dsa": "KL, then DSA (stage 2)",
    "shift:de-shift": "shift objective",
    "population_prior": "mean of the training countries",
}


def method_name(label: str, draw: str) -> str | None:
    """The figure's name for a store label such as "adapter:de-direct-f0.1-s0" (None: not part of it)."""
    return METHOD_NAMES.get(label.removesuffix(f"-{draw}"))


def draw_scores(store: Path, metric: str = "1-jsd_paper") -> pd.DataFrame:
    """One draw's store: columns fraction, seed, method, score, rows (the rows all its methods scored)."""
    match = DRAW.match(store.stem)
    if match is None:
        raise ValueError(f"{store}: a data-efficiency store is named f<fraction>-s<seed>.parquet")
    rows = labelled(load_results(store)).query("metric == @metric")
    rows = rows.assign(method=[method_name(label, store.stem) for label in rows["label"]]).dropna(subset=["method"])
    rows = rows.assign(key=rows["question_id"].fillna(rows["question"]) + "\x00" + rows["group"])
    keys_by_method = [set(keys) for _, keys in rows.groupby("method")["key"]]
    common = set.intersection(*keys_by_method) if keys_by_method else set()
    means = rows[rows["key"].isin(common)].groupby("method")["value"].agg(["mean", "size"]).reset_index()
    return means.rename(columns={"mean": "score", "size": "rows"}).assign(
        fraction=float(match["fraction"]), seed=int(match["seed"]))[["fraction", "seed", "method", "score", "rows"]]


def data_efficiency_table(folder: str | Path, metric: str = "1-jsd_paper") -> pd.DataFrame:
    """Every draw's scores from the stores in `folder`, sorted by fraction, seed and method."""
    stores = sorted(Path(folder).glob("f*-s*.parquet"))
    if not stores:
        raise FileNotFoundError(f"no data-efficiency stores (f<fraction>-s<seed>.parquet) in {folder}")
    table = pd.concat([draw_scores(store, metric) for store in stores], ignore_index=True)
    return table.sort_values(["fraction", "seed", "method"], ignore_index=True)


def merge_draws(kept: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """`new` plus the draws of `kept` that `new` lacks. The stores live under models/, which a
    fresh checkout does not have, so the committed table keeps the draws of earlier sessions
    while a later one adds its seeds; a draw scored again replaces its old rows whole."""
    if kept is None or kept.empty:
        return new.sort_values(["fraction", "seed", "method"], ignore_index=True)
    draw = ["fraction", "seed"]
    new_draws = set(map(tuple, new[draw].round(4).itertuples(index=False)))
    old = kept[[tuple(key) not in new_draws for key in kept[draw].round(4).itertuples(index=False)]]
    merged = pd.concat([old, new], ignore_index=True)
    return merged.sort_values(["fraction", "seed", "method"], ignore_index=True)


def load_table(path: str | Path | None = None) -> pd.DataFrame | None:
    """The committed table (results/data_efficiency.csv), or None before the experiment has run."""
    path = Path(path or TABLE)
    return pd.read_csv(path) if path.is_file() else None
