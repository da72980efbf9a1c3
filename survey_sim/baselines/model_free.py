"""Model-free baselines. Simple, and strong: the mean of other countries is hard to beat."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..data import Dataset, SurveyItem
from . import Prediction, register_baseline


def mean_of(distributions: list[np.ndarray]) -> Prediction:
    return np.mean(distributions, axis=0) if distributions else None


def by_question(items: Dataset) -> dict[tuple, list[SurveyItem]]:
    """Items grouped by (question key, number of options): only equal-length vectors average."""
    groups = defaultdict(list)
    for item in items:
        groups[(item.key, item.n_options)].append(item)
    return groups


def mean_excluding_group(pool: dict[tuple, list[SurveyItem]], item: SurveyItem) -> Prediction:
    others = [o.distribution for o in pool.get((item.key, item.n_options), []) if o.group != item.group]
    return mean_of(others)


@register_baseline("uniform", "Equal share for every option.")
def uniform(train: Dataset, test: Dataset) -> list[Prediction]:
    return [np.full(item.n_options, 1.0 / item.n_options) for item in test]


@register_baseline("avg_culture", "Mean of the training countries' answers to the same question (Cao et al.'s Avg_Culture); "
                                  "undefined for questions no training country answered.")
def avg_culture(train: Dataset, test: Dataset) -> list[Prediction]:
    pool = by_question(train)
    return [mean_excluding_group(pool, item) for item in test]


@register_baseline("loo_mean", "Mean of all other countries in the evaluated set on the same question "
                               "(leave-one-country-out); uses other countries' real answers to the test question.")
def loo_mean(train: Dataset, test: Dataset) -> list[Prediction]:
    pool = by_question(test)
    return [mean_excluding_group(pool, item) for item in test]


@register_baseline("train_prior", "Mean of all training distributions with the same number of options: "
                                  "a prior for unseen questions.")
def train_prior(train: Dataset, test: Dataset) -> list[Prediction]:
    by_k = defaultdict(list)
    for item in train:
        by_k[item.n_options].append(item.distribution)
    prior = {k: mean_of(v) for k, v in by_k.items()}
    return [prior.get(item.n_options) for item in test]
