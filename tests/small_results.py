"""A small results store for the leaderboard's tests: real tidy rows from `tidy_scores`, no model."""
from pathlib import Path

import numpy as np
import pandas as pd

from survey_sim.data import Dataset, SurveyItem
from survey_sim.evaluation import tidy_scores
from survey_sim.results import append_results


def item(group: str, question_id: str, shares) -> SurveyItem:
    return SurveyItem(survey="wvs", question_id=question_id, question=f"Question {question_id}?", options=("Yes", "No"),
                      lang="en", group=group, iso3=None, distribution=np.array(shares, dtype=float))


TEST = Dataset("wvs:C1-Q2", [item("France", "Q164", [0.8, 0.2]), item("Peru", "Q164", [0.4, 0.6]),
                             item("France", "Q165", [0.5, 0.5]), item("Peru", "Q165", [0.3, 0.7])])


def run(method, predictions, split="C1-Q2", model="", adapter=""):
    frame = tidy_scores(TEST, predictions, method=method, dataset="wvs", split=split, model=model, adapter=adapter)
    return frame.assign(coverage=sum(p is not None for p in predictions) / len(TEST))


def small_store() -> pd.DataFrame:
    """uniform on two splits, a perfect adapter, a zero-shot run that answers half the rows."""
    uniform = [np.array([0.5, 0.5])] * 4
    perfect = [it.distribution for it in TEST]
    half = [TEST.items[0].distribution, None, np.array([0.5, 0.5]), None]
    return pd.concat([run("uniform", uniform), run("uniform", uniform, split="C1-Q3"),
                      run("adapter", perfect, model="smollm2-135m", adapter="mine"),
                      run("zero_shot", half, model="smollm2-135m")], ignore_index=True)


def write_small_store(path: Path) -> Path:
    return append_results(small_store(), path)
