"""Is method A better than method B? A paired bootstrap over questions, from the results store.

Rows of the same question (its countries) are not independent: a model that gets one question
wrong tends to get it wrong for every country. So the interval resamples *questions* with
replacement, keeping each question's rows together, and recomputes the mean difference
A - B over the rows both methods scored (same question, same group). A difference whose 95%
interval contains 0 is not a win.

The skill score says the same relative to B: 100 * (1 - d_A / d_B), where d is a row's distance
from the truth (1 - similarity for 1-JSD or accuracy, the value itself for EMD): +20 means A's
error is a fifth smaller than B's; against uniform or the mean of other countries it reads as
"how much of the baseline's error is gone".

Cross-validation (the five leave-10-countries-out folds) pools several tests into one comparison:
each fold's rows are paired with its own methods ("{fold}" in a method name is the test's fold
number, as each fold has its own adapter), and questions are resampled across all folds at once,
since a question is the same question in every fold.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .leaderboard import higher_is_better, method_label
from .registry import UnknownName

N_BOOTSTRAP = 2000


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    test: str
    metric: str
    mean_a: float
    mean_b: float
    difference: float      # mean of A - B over the common rows
    low: float             # 95% bootstrap interval of the difference (over questions)
    high: float
    rows: int
    questions: int
    skill: float = float("nan")        # 100 * (1 - d_A / d_B), and its 95% bootstrap interval
    skill_low: float = float("nan")
    skill_high: float = float("nan")

    @property
    def verdict(self) -> str:
        """"A better", "B better" or "no difference" (interval contains 0), by the metric's direction."""
        if self.low <= 0 <= self.high:
            return "no difference"
        a_higher = self.low > 0
        return f"{'A' if a_higher == (higher_is_better(self.metric) is not False) else 'B'} better"

    def line(self) -> str:
        return (f"{self.test} {self.metric}: {self.a} {self.mean_a:.3f} vs {self.b} {self.mean_b:.3f}, "
                f"difference {self.difference:+.3f} [95% CI {self.low:+.3f}, {self.high:+.3f}] over "
                f"{self.rows} rows, {self.questions} questions: {self.verdict}; skill of A over B "
                f"{self.skill:+.1f}% [{self.skill_low:+.1f}, {self.skill_high:+.1f}]")


def labelled(results: pd.DataFrame) -> pd.DataFrame:
    """The store's rows with the leaderboard's method label and "dataset:split" test name (rows
    labelled already are returned as they are: a caller comparing many pairs labels once)."""
    if {"label", "test"} <= set(results.columns):
        return results
    return results.assign(
        label=[method_label(m, mo, a) for m, mo, a in
               zip(results["method"], results["model"].fillna(""), results["adapter"].fillna(""))],
        test=results["dataset"] + ":" + results["split"])


def question_keys(rows: pd.DataFrame) -> pd.Series:
    """What identifies a row's question: its id, else its text (a reference store keeps ids only)."""
    return rows["question_id"].fillna(rows["question"]) if "question" in rows else rows["question_id"]


def paired_rows(results: pd.DataFrame, a: str, b: str, test: str, metric: str) -> pd.DataFrame:
    """Columns question, value_a, value_b: the rows of `test` both methods scored on `metric`."""
    rows = labelled(results)
    rows = rows[(rows["test"] == test) & (rows["metric"] == metric)]
    rows = rows.assign(question_key=question_keys(rows))
    keys = ["question_key", "group"]
    sides = []
    for name in (a, b):
        side = rows[rows["label"] == name]
        if side.empty:
            known = sorted(set(labelled(results).query("test == @test")["label"]))
            raise UnknownName(f"no {metric} rows of {name!r} on {test}; methods there: {', '.join(known) or 'none'}")
        sides.append(side.drop_duplicates(keys, keep="last").set_index(keys)["value"])
    joined = pd.concat(sides, axis=1, keys=["value_a", "value_b"], join="inner").reset_index()
    return joined.rename(columns={"question_key": "question"})


def fold_of(test: str) -> str:
    """The fold number of a test such as "wvs:C1-Q1:fold3" ("3")."""
    match = re.search(r":fold(\d+)$", test)
    if match is None:
        raise UnknownName(f"{test!r} is not a fold (dataset:split:foldN), so '{{fold}}' in a method name "
                          "cannot be filled")
    return match.group(1)


def for_test(method: str, test: str) -> str:
    """The method's label on `test`: "{fold}" replaced by the test's fold number."""
    return method.replace("{fold}", fold_of(test)) if "{fold}" in method else method


def pooled_rows(results: pd.DataFrame, a: str, b: str, tests: Sequence[str], metric: str) -> pd.DataFrame:
    """paired_rows of every test, stacked: the rows of A and B on all of them."""
    return pd.concat([paired_rows(results, for_test(a, test), for_test(b, test), test, metric) for test in tests],
                     ignore_index=True)


def compare(results: pd.DataFrame, a: str, b: str, test: str | Sequence[str], metric: str = "1-jsd_paper",
            n_bootstrap: int = N_BOOTSTRAP, seed: int = 0) -> Comparison:
    """Mean of A and B on their common rows, and the paired 95% bootstrap interval of A - B.

    Several tests (e.g. the five folds) are pooled: their rows are compared together and each
    bootstrap draw resamples questions across all of them."""
    tests = [test] if isinstance(test, str) else list(test)
    rows = pooled_rows(results, a, b, tests, metric)
    test = " + ".join(tests)
    if rows.empty:
        raise ValueError(f"{a!r} and {b!r} share no scored rows on {test}")
    distance = (lambda v: 1 - v) if higher_is_better(metric) is not False else (lambda v: v)
    per_row = rows.assign(diff=rows["value_a"] - rows["value_b"], d_a=distance(rows["value_a"]),
                          d_b=distance(rows["value_b"]), n=1)
    per_question = per_row.groupby("question")[["diff", "d_a", "d_b", "n"]].sum()
    sums, d_a, d_b, counts = (per_question[c].to_numpy() for c in ("diff", "d_a", "d_b", "n"))
    draws = np.random.default_rng(seed).integers(0, len(sums), size=(n_bootstrap, len(sums)))
    low, high = np.percentile(sums[draws].sum(axis=1) / counts[draws].sum(axis=1), [2.5, 97.5])
    with np.errstate(divide="ignore", invalid="ignore"):  # B without error: no skill to speak of (nan)
        skills = 100 * (1 - d_a[draws].sum(axis=1) / d_b[draws].sum(axis=1))
        skill = 100 * (1 - d_a.sum() / d_b.sum())
    skill_low, skill_high = np.percentile(skills, [2.5, 97.5])
    return Comparison(a, b, test, metric, float(rows["value_a"].mean()), float(rows["value_b"].mean()),
                      float(sums.sum() / counts.sum()), float(low), float(high), len(rows), len(sums),
                      float(skill), float(skill_low), float(skill_high))


def mean_intervals(results: pd.DataFrame, metric: str = "1-jsd_paper", n_bootstrap: int = N_BOOTSTRAP,
                   seed: int = 0) -> pd.DataFrame:
    """Columns method, test, low, high: each method's mean on each test with its 95% bootstrap
    interval, resampling questions (as the leaderboard labels methods and tests)."""
    rows = labelled(results)
    rows = rows[rows["metric"] == metric]
    rows = rows.assign(question_key=question_keys(rows))
    per_question = rows.groupby(["label", "test", "question_key"])["value"].agg(["sum", "count"]).reset_index()
    rng = np.random.default_rng(seed)
    out = []
    for (label, test), group in per_question.groupby(["label", "test"], sort=False):
        sums, counts = group["sum"].to_numpy(), group["count"].to_numpy()
        draws = rng.integers(0, len(sums), size=(n_bootstrap, len(sums)))
        low, high = np.percentile(sums[draws].sum(axis=1) / counts[draws].sum(axis=1), [2.5, 97.5])
        out.append({"method": label, "test": test, "low": float(low), "high": float(high)})
    return pd.DataFrame(out, columns=["method", "test", "low", "high"])


def clear_winners(results: pd.DataFrame, means: pd.DataFrame, metric: str = "1-jsd_paper") -> pd.DataFrame:
    """True where a cell of `means` (methods down, tests across) is the best of its column *and*
    beats the runner-up: the paired 95% interval of their difference, on the rows both scored,
    excludes zero. A lead inside the noise is no win, so nothing in that column is marked."""
    higher = higher_is_better(metric) is not False
    results = labelled(results)  # once, not once per comparison
    marked = pd.DataFrame(False, index=means.index, columns=means.columns)
    for test in means.columns:
        ranked = means[test].dropna().sort_values(ascending=not higher)
        if len(ranked) < 2:
            continue
        best, runner_up = ranked.index[:2]
        try:
            verdict = compare(results, best, runner_up, test, metric).verdict
        except ValueError:  # no rows in common: no paired comparison to make
            continue
        marked.loc[best, test] = verdict == "A better"
    return marked
