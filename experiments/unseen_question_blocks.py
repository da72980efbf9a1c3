"""Priors for unseen questions, validated across blocks of the questionnaire (issue #13).

C1-Q2 is one block of WVS questions (religion and morality), and choices made on it alone have
twice failed on the tests (Gemma at T=1.5, then the text prior). Here each of four contiguous
blocks of C1-Q1's questions is held out in turn and the priors learn from the other three, so a
held-out block's topics are not in its training rows; C1-Q2 (trained on all of C1-Q1) is shown
beside them. The table gives paper-compatible 1-JSD; below it, each prior against the training
prior on the four blocks pooled, with a paired 95% bootstrap interval over questions.

    .venv/bin/python experiments/unseen_question_blocks.py     # about 15 minutes on 2 CPU cores

Validation data only: no test split is read.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from survey_sim.bootstrap import compare
from survey_sim.data.splits import question_number
from survey_sim.evaluation import split_items, tidy_scores
from survey_sim.methods import METHODS, Context

METHOD_NAMES = ["uniform", "train_prior", "country_prior", "text_prior"]
METRIC = "1-jsd_paper"


def question_blocks(items, k: int = 4) -> Iterator[tuple[list, list]]:
    """(training rows, held-out rows) for each of k contiguous blocks of questions in WVS order."""
    numbers = {it.key: question_number(it) or 0 for it in items}
    questions = sorted(numbers, key=lambda key: (numbers[key], key))
    for block in np.array_split(np.arange(len(questions)), k):
        held_out = {questions[i] for i in block}
        yield [it for it in items if it.key not in held_out], [it for it in items if it.key in held_out]


def scores(name: str, train, held, split: str) -> pd.DataFrame:
    predictions = METHODS[name].run(held, Context(train=train))
    return tidy_scores(held, predictions, method=name, dataset="wvs", split=split)


def main() -> None:
    c1q1, c1q2 = split_items("wvs:C1-Q1")[2], split_items("wvs:C1-Q2")[2]
    splits = {"C1-Q2": (c1q1, c1q2)}
    splits.update({f"C1-Q1 block {i + 1}": fold for i, fold in enumerate(question_blocks(c1q1))})
    results = pd.concat([scores(name, train, held, split) for split, (train, held) in splits.items()
                         for name in METHOD_NAMES], ignore_index=True)
    means = results[results["metric"] == METRIC].pivot_table(index="method", columns="split", values="value")
    blocks = [s for s in splits if s.startswith("C1-Q1")]
    means["mean of the blocks"] = means[blocks].mean(axis=1)
    print(means.loc[METHOD_NAMES, [*splits, "mean of the blocks"]].round(3).to_string())
    print()
    for name in ("country_prior", "text_prior"):
        print(compare(results, name, "train_prior", [f"wvs:{b}" for b in blocks], METRIC).line())
        print(compare(results, name, "train_prior", "wvs:C1-Q2", METRIC).line())


if __name__ == "__main__":
    main()
