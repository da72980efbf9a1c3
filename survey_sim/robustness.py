"""How far a simulator can be trusted beyond its mean score (issue #14).

A good mean 1-JSD can hide a simulator that says the same for everyone, or one that answers
"(A)" whatever (A) stands for. Four checks, each set beside what real answers give:

- **collapse**: how much the simulated countries of one question differ (`metrics.diversity`:
  mean JS distance of each country to their mean) against how much the real ones differ, and
  the rank correlation across countries of each option's share, real vs simulated. A simulator
  that shows less than `COLLAPSE_RATIO` of the real variation is flagged as collapsed.
- **letter bias**: the mean predicted share of each letter position against the real one, as a
  total variation distance per option count (`evaluation.letter_bias`).
- **order sensitivity**: the same items with their options moved round (cyclic shifts, mapped
  back): the mean total variation between those predictions and the survey-order one. 0 for a
  simulator that reads the options, not their letters.
- **[ctrl] agreement**: 1-JSD between a country's prediction and a random other country's on the
  same question (Cao et al.'s control prompts a random country; this asks the same of the
  predictions themselves). Near 1 means the country hardly matters; the real answers give the
  level to expect.

Everything here takes tidy rows (`evaluation.tidy_scores`) or plain arrays; nothing loads a model
except `order_predictions`, which runs the method it is given.
"""
from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .methods import rotate_options
from .metrics import METRICS, diversity, one_minus_jsd
from .paths import PROJECT_ROOT, models_dir, write_text_atomically

COLLAPSE_RATIO = 1 / 3  # below a third of the real between-country variation: "near-identical"


def total_variation(p, q) -> float:
    """Half the L1 distance: the share of answers that would have to move (0 to 1)."""
    return float(0.5 * np.abs(np.asarray(p, dtype=float) - np.asarray(q, dtype=float)).sum())


def rank_correlation(real: Sequence[np.ndarray], simulated: Sequence[np.ndarray]) -> float:
    """Spearman correlation across countries of each option's share, real vs simulated, averaged
    over the options whose shares vary on both sides (NaN if none does)."""
    from scipy.stats import spearmanr  # imported here: scipy is slow to import

    real, simulated = np.vstack(real), np.vstack(simulated)  # (countries, options)
    values = [spearmanr(real[:, j], simulated[:, j]).statistic for j in range(real.shape[1])
              if np.ptp(real[:, j]) > 0 and np.ptp(simulated[:, j]) > 0]
    return float(np.mean(values)) if values else float("nan")


@dataclass(frozen=True)
class Collapse:
    """Between-country variation of one question's simulated answers against the real one's.

    `real_spread` comes from the same countries' real answers (`of_question`), or, where nobody
    answered the question (Ask the world), from comparable real questions (`against_reference`);
    then `rank` is NaN."""

    simulated_spread: float
    real_spread: float
    rank: float
    countries: int
    reference: str = "these countries' real answers"

    @property
    def ratio(self) -> float:
        return self.simulated_spread / self.real_spread if self.real_spread > 0 else float("nan")

    @property
    def collapsed(self) -> bool:
        return bool(self.ratio < COLLAPSE_RATIO)

    def sentence(self) -> str:
        """What a caption under a simulated chart or map says."""
        if not np.isfinite(self.ratio):
            return f"The real answers do not vary across these {self.countries} groups."
        verdict = ("The simulated answers are **near-identical across countries**: differences of colour or bar "
                   "height between them are not national differences the model knows about. "
                   if self.collapsed else "")
        rank = (f" Rank correlation across countries of each option's share, real vs simulated: {self.rank:+.2f}."
                if np.isfinite(self.rank) else "")
        return (f"{verdict}Between-country variation of the simulation: {self.simulated_spread:.3f} "
                f"(mean JS distance to the all-country mean), against {self.real_spread:.3f} in {self.reference}: "
                f"**{self.ratio:.0%} of the real variation**.{rank}")


def of_question(real: Sequence[np.ndarray], simulated: Sequence[np.ndarray]) -> Collapse:
    """The collapse check for the countries of one question, real and simulated in the same order."""
    spread = diversity(list(real), list(simulated))
    rank = rank_correlation(real, simulated) if len(real) > 2 else float("nan")
    return Collapse(spread["pred_spread"], spread["real_spread"], rank, len(real))


def against_reference(simulated: Sequence[np.ndarray], reference_spread: float, reference: str) -> Collapse:
    """The collapse check for a question nobody answered: the simulation's spread against the
    typical real spread of comparable questions (`typical_real_spread`)."""
    spread = diversity(list(simulated), list(simulated))["pred_spread"]
    return Collapse(spread, reference_spread, float("nan"), len(simulated), reference)


def typical_real_spread(items, n_options: int, min_countries: int = 20) -> float:
    """The median between-country spread of real answers over the questions of `items` with
    `n_options` options answered by at least `min_countries` countries (NaN if none)."""
    by_question: dict[tuple, list] = {}
    for item in items:
        if item.n_options == n_options and item.iso3:
            by_question.setdefault(item.key, []).append(item.distribution)
    spreads = [diversity(d, d)["real_spread"] for d in by_question.values() if len(d) >= min_countries]
    return float(np.median(spreads)) if spreads else float("nan")


# --- a whole run, from its tidy rows -------------------------------------------------------------

def _shares(text: str) -> np.ndarray:
    # The store keeps shares rounded to 6 decimals: renormalised, as the metrics require sums of 1.
    shares = np.array(json.loads(text), dtype=float)
    return shares / shares.sum()


def _one_row_per_item(rows: pd.DataFrame) -> pd.DataFrame:
    first = next(iter(METRICS))
    return rows[rows["metric"] == first] if "metric" in rows else rows


def collapse_by_question(rows: pd.DataFrame, min_groups: int = 5) -> pd.DataFrame:
    """One row per question of a run with at least `min_groups` groups: groups, real and
    simulated spread, their ratio and the rank correlation."""
    table = []
    for question_id, part in _one_row_per_item(rows).groupby("question_id", sort=False):
        if len(part) < min_groups:
            continue
        check = of_question([_shares(r) for r in part["real"]],
                            [_shares(p) for p in part["pred"]])
        table.append({"question_id": question_id, "groups": check.countries, "real_spread": check.real_spread,
                      "simulated_spread": check.simulated_spread, "ratio": check.ratio, "rank": check.rank})
    return pd.DataFrame(table, columns=["question_id", "groups", "real_spread", "simulated_spread", "ratio", "rank"])


def over_questions(by_question: pd.DataFrame) -> Collapse:
    """One collapse check for a whole run (`collapse_by_question`): the median simulated and real
    spreads over its questions, and the mean rank correlation."""
    return Collapse(float(by_question["simulated_spread"].median()), float(by_question["real_spread"].median()),
                    float(by_question["rank"].mean()), int(by_question["groups"].median()),
                    f"the real answers (medians over {len(by_question)} questions)")


def ctrl_agreement(rows: pd.DataFrame, seed: int = 0) -> tuple[float, float]:
    """(simulated, real): mean 1-JSD between each group's distribution and a random other group's
    on the same question (the same random partner for both)."""
    rng = random.Random(seed)
    simulated, real = [], []
    for _, part in _one_row_per_item(rows).groupby("question_id", sort=False):
        if len(part) < 2:
            continue
        preds = [_shares(p) for p in part["pred"]]
        reals = [_shares(r) for r in part["real"]]
        for i in range(len(part)):
            j = rng.choice([k for k in range(len(part)) if k != i])
            simulated.append(one_minus_jsd(preds[i], preds[j]))
            real.append(one_minus_jsd(reals[i], reals[j]))
    return (float(np.mean(simulated)), float(np.mean(real))) if real else (float("nan"), float("nan"))


def letter_bias_distances(rows: pd.DataFrame, min_rows: int = 20) -> dict[int, tuple[float, int]]:
    """Per option count k with at least `min_rows` rows: (total variation between the mean
    predicted share of each letter position and the real mean, rows)."""
    from .evaluation import letter_bias

    sizes = _one_row_per_item(rows)["real"].map(lambda real: len(json.loads(real))).value_counts()
    distances = {}
    for k, count in sorted(sizes.items()):
        if count >= min_rows:
            shares = letter_bias(rows, k)  # rows "real" and the run's own: the mean share per position
            distances[k] = (total_variation(shares.iloc[1], shares.loc["real"]), int(count))
    return distances


# --- order sensitivity: runs the method ----------------------------------------------------------

def order_predictions(method, items: Sequence, context, shifts: Sequence[int]) -> dict[int, list]:
    """Per cyclic shift j: the method's predictions for `items` with their options moved j places,
    mapped back to the survey order. The training items of the same questions move with them, so
    a method that starts from other countries' answers (shift) gets them in the order it sees."""
    keys = {item.key for item in items}
    results = {}
    for j in shifts:
        train = context.train
        if train is not None:
            train = [rotate_options(it, j % it.n_options) if it.key in keys else it for it in train]
        moved = replace(context, train=train, load_simulator=lambda: context.simulator)  # one model for all
        predictions = method.run([rotate_options(it, j % it.n_options) for it in items], moved)
        results[j] = [None if p is None else np.roll(p, j % len(p)) for p in predictions]
    return results


def order_sensitivity(survey_order: Sequence, moved: dict[int, list]) -> float:
    """Mean total variation between each survey-order prediction and the same item's moved ones."""
    distances = [total_variation(p, other[i]) for other in moved.values()
                 for i, p in enumerate(survey_order) if p is not None and other[i] is not None]
    return float(np.mean(distances)) if distances else float("nan")


# --- the report ----------------------------------------------------------------------------------

def robustness_table(rows: pd.DataFrame, sensitivity: float | None = None) -> pd.DataFrame:
    """The report for one run's tidy rows: one row per check with the simulated value, the real
    value to read it against, and what it means. `sensitivity` from `order_sensitivity`."""
    by_question = collapse_by_question(rows)
    collapse = over_questions(by_question)
    simulated_ctrl, real_ctrl = ctrl_agreement(rows)
    table = [
        ("between-country variation (ratio to real)", collapse.ratio, 1.0,
         (f"median simulated spread / median real spread over {len(by_question)} questions; "
          f"below {COLLAPSE_RATIO:.2f} the simulation is collapsed")),
        ("rank correlation across countries", collapse.rank, 1.0,
         "Spearman of each option's share across countries, real vs simulated, mean over questions"),
        ("[ctrl] agreement: 1-JSD to a random other country", simulated_ctrl, real_ctrl,
         "near 1 and above the real value: the country hardly changes the answer"),
    ]
    for k, (distance, n) in letter_bias_distances(rows).items():
        table.append((f"letter bias, {k} options (TV)", distance, 0.0,
                      f"total variation between the mean share per letter position and the real one, {n} rows"))
    if sensitivity is not None:
        table.append(("order sensitivity (TV)", sensitivity, 0.0,
                      "mean total variation between predictions with the options in survey order and moved round"))
    return pd.DataFrame(table, columns=["check", "simulated", "real", "meaning"])


# --- reports on disk ------------------------------------------------------------------------------

REFERENCE_REPORTS = PROJECT_ROOT / "results" / "robustness"  # shipped: the default simulators' reports
REPORT_COLUMNS = ["simulator", "test", "questions", "rows", "check", "simulated", "real", "meaning"]


def reports_dir() -> Path:
    return models_dir() / "results" / "robustness"


def report_path(simulator: str, test: str, folder: Path | None = None) -> Path:
    """models/results/robustness/<simulator>@<test>.csv, with characters a file name cannot hold replaced."""
    name = re.sub(r"[^A-Za-z0-9._=-]+", "_", f"{simulator}@{test}")
    return (folder or reports_dir()) / f"{name}.csv"


def save_report(table: pd.DataFrame, simulator: str, test: str, rows: pd.DataFrame, path: Path | None = None) -> Path:
    """The report of `robustness_table` with what it describes (simulator, test split, how many
    questions and rows), written whole or not at all."""
    path = path or report_path(simulator, test)
    path.parent.mkdir(parents=True, exist_ok=True)
    items = _one_row_per_item(rows)
    report = table.assign(simulator=simulator, test=test, questions=items["question_id"].nunique(), rows=len(items))
    write_text_atomically(path, report[REPORT_COLUMNS].to_csv(index=False))
    return path


def report_problem(report: pd.DataFrame) -> str | None:
    """Why a table read from a report file is not one (None if it is): the page formats its numbers
    and names its rows, so a garbled number or a row cut short must not reach it."""
    missing = set(REPORT_COLUMNS) - set(report.columns)
    if missing or report.empty:
        return f"missing columns {sorted(missing)}" if missing else "no rows"
    if cut := [c for c in ("simulator", "test", "check", "meaning") if report[c].isna().any()]:
        return f"empty cells in {cut} (a row cut short?)"
    if garbled := [c for c in ("questions", "rows", "simulated", "real")
                   if not pd.api.types.is_numeric_dtype(report[c])]:
        return f"not numbers in {garbled}"
    return None


def load_reports() -> pd.DataFrame:
    """Every saved report: the user's (models/results/robustness) first, then the shipped ones for
    any (simulator, test) the user has not reported. A file that is not a report is skipped with a
    warning: one bad file must not hide the others."""
    frames, seen = [], set()
    for folder, source in ((reports_dir(), "yours"), (REFERENCE_REPORTS, "shipped")):
        for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
            try:
                report = pd.read_csv(path)
                if problem := report_problem(report):
                    raise ValueError(problem)
            except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
                logging.getLogger(__name__).warning("%s: not a robustness report (%s); skipped", path, err)
                continue
            run = (report["simulator"].iloc[0], report["test"].iloc[0])
            if run not in seen:
                seen.add(run)
                frames.append(report[REPORT_COLUMNS].assign(source=source, file=str(path)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*REPORT_COLUMNS, "source", "file"])
