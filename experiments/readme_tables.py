"""Print a README table from a results store: one line per test split, one column per method,
each cell "1-JSD / paper-compatible 1-JSD / ordinal EMD / majority accuracy" (means over rows).

    python experiments/readme_tables.py STORE [--methods uniform train_prior avg_culture loo_mean]
"""
from __future__ import annotations

import argparse

import pandas as pd

from survey_sim.bootstrap import labelled
from survey_sim.results import load_results

METRICS = ["1-jsd", "1-jsd_paper", "emd", "majority_acc"]


def table(results: pd.DataFrame, methods: list[str]) -> str:
    rows = labelled(results)
    means = rows[rows["metric"].isin(METRICS)].groupby(["test", "label", "metric"])["value"].agg(["mean", "size"])
    lines = ["| split | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for test in dict.fromkeys(rows["test"]):
        cells = []
        for method in methods:
            if (test, method, METRICS[0]) not in means.index:
                cells.append("–")
                continue
            values = [means.loc[(test, method, m), "mean"] for m in METRICS]
            cells.append(" / ".join(f"{v:.3f}" for v in values) + f" (n={means.loc[(test, method, METRICS[0]), 'size']:,})")
        lines.append(f"| {test} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store")
    parser.add_argument("--methods", nargs="+", default=["uniform", "train_prior", "avg_culture", "loo_mean"])
    args = parser.parse_args()
    print(table(load_results(args.store), args.methods))
