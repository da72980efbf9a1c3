"""The leaderboard: each method's mean score on each data set and split, from the results store.

Pure pandas over the tidy rows of `evaluation.tidy_scores` (one per method x split x item x
metric), shared by the app's Leaderboard page and `survey-sim results`, so both show the same
numbers. A method is labelled so that runs stay apart: a baseline by its name ("loo_mean"), a
model run by method and base model ("zero_shot (smollm2-135m)"), an adapter run by adapter
("adapter:smollm2-wvs-c1q1").
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .metrics import METRICS
from .registry import UnknownName
from .results import default_store

DEFAULT_METRIC = "1-jsd_paper"  # the paper's number, so tables compare with Cao et al.
ROW_COLUMNS = ["method", "test", "metric", "mean", "rows", "coverage"]


def method_label(method: str, model: str = "", adapter: str = "") -> str:
    """The name a run goes by on the leaderboard."""
    if adapter:
        return f"{method}:{adapter}"  # the adapter fixes the base model
    return f"{method} ({model})" if model else method


def store_metrics(results: pd.DataFrame) -> list[str]:
    """The metrics the store holds: registered ones in registry order, then any others."""
    held = set(results["metric"]) if "metric" in results else set()
    return [m for m in METRICS if m in held] + sorted(held - set(METRICS))


def higher_is_better(metric: str) -> bool | None:
    """The metric's direction; None for a metric this version does not know."""
    return METRICS[metric].higher_is_better if metric in METRICS else None


def leaderboard_rows(results: pd.DataFrame, metric: str = DEFAULT_METRIC) -> pd.DataFrame:
    """One row per (method, test) with the mean of `metric`, the rows scored and the coverage.

    `test` is "dataset:split", as the CLI's --test takes it. `coverage` is the share of the
    split's items the method could answer (NaN for stores written before it was recorded).
    """
    if results.empty:
        return pd.DataFrame(columns=ROW_COLUMNS)
    if metric not in set(results["metric"]):
        raise UnknownName(f"metric {metric!r} is not in the results store; "
                          f"it holds: {', '.join(store_metrics(results))}")
    scores = results[results["metric"] == metric]
    scores = scores.assign(
        label=[method_label(m, mo, a) for m, mo, a in
               zip(scores["method"], scores["model"].fillna(""), scores["adapter"].fillna(""))],
        test=scores["dataset"] + ":" + scores["split"],
        # baselines, then base-model runs, then adapters; alphabetical within each
        kind=(scores["model"].fillna("") != "").astype(int) + (scores["adapter"].fillna("") != "").astype(int),
    )
    if "coverage" not in scores:
        scores = scores.assign(coverage=float("nan"))
    rows = (scores.groupby(["kind", "label", "test"], sort=True)
            .agg(mean=("value", "mean"), rows=("value", "count"), coverage=("coverage", "first"))
            .reset_index().rename(columns={"label": "method"}))
    return rows.assign(metric=metric)[ROW_COLUMNS]


def wide(rows: pd.DataFrame, values: str) -> pd.DataFrame:
    """Methods down, tests across; keeps the method order of `rows`, NaN where a method was not run."""
    table = rows.pivot(index="method", columns="test", values=values)
    table = table.reindex(index=rows["method"].drop_duplicates())
    table.columns.name = None
    return table


def coverage_cells(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows scored per (method, test) as text, with the share of the split when not all of it."""
    def cell(n, share):
        return f"{n:,}" if pd.isna(share) or share >= 0.9995 else f"{n:,} ({share:.1%})"

    return wide(rows.assign(cell=[cell(n, s) for n, s in zip(rows["rows"], rows["coverage"])]), "cell").fillna("-")


def leaderboard_text(rows: pd.DataFrame) -> str:
    """The leaderboard as plain text: means, then the rows scored behind each."""
    if rows.empty:
        return "no rows"
    metric = rows["metric"].iloc[0]
    direction = {True: "higher is better", False: "lower is better", None: "direction unknown"}[higher_is_better(metric)]
    means = wide(rows, "mean").to_string(float_format=lambda x: f"{x:.3f}", na_rep="-")
    return (f"{metric} ({direction}), mean over the rows of each split; '-': not run\n\n{means}\n\n"
            f"rows scored (share of the split where a method covers less):\n\n{coverage_cells(rows).to_string()}")


FILL_COMMANDS = [
    "survey-sim baselines --test wvs:C1-Q2 --test pew:PEW_C1        # model-free baselines",
    "survey-sim evaluate --method zero_shot --test wvs:C1-Q2        # the base language model",
    "survey-sim evaluate --method adapter --adapter NAME --test wvs:C1-Q2",
]


def empty_store_message(path: str | Path) -> str:
    return f"The results store {path} has no rows yet. Fill it from the command line:\n" + "\n".join(
        f"  {command}" for command in FILL_COMMANDS)


def results_command(metric: str, store: str | Path | None = None, csv: str | None = None) -> str:
    """The `survey-sim results` call that prints the same table."""
    parts = ["survey-sim results", f"--metric {metric}"]
    if store is not None and Path(store) != default_store():
        parts.append(f"--store {store}")
    if csv:
        parts.append(f"--csv {csv}")
    return " ".join(parts)
