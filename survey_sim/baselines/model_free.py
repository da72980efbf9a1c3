"""Model-free baselines. Simple, and strong: the mean of other countries is hard to beat."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from ..data import SurveyItem
from ..methods import Context, Prediction, register_method


def mean_of(distributions: list[np.ndarray]) -> Prediction:
    return np.mean(distributions, axis=0) if distributions else None


def by_question(items: Iterable[SurveyItem]) -> dict[tuple, list[SurveyItem]]:
    """Items grouped by (question key, number of options): only equal-length vectors average."""
    groups = defaultdict(list)
    for item in items:
        groups[(item.key, item.n_options)].append(item)
    return groups


def mean_excluding_group(pool: dict[tuple, list[SurveyItem]], item: SurveyItem) -> Prediction:
    others = [o.distribution for o in pool.get((item.key, item.n_options), []) if o.group != item.group]
    return mean_of(others)


@register_method("uniform", "Equal share for every option.", uses="none")
def uniform(items: Sequence[SurveyItem], context: Context) -> list[Prediction]:
    return [np.full(item.n_options, 1.0 / item.n_options) for item in items]


@register_method("avg_culture", "Mean of the training countries' answers to the same question (Cao et al.'s "
                                "Avg_Culture); undefined for questions no training country answered.", uses="train")
def avg_culture(items: Sequence[SurveyItem], context: Context) -> list[Prediction]:
    pool = by_question(context.train)
    return [mean_excluding_group(pool, item) for item in items]


@register_method("loo_mean", "Mean of all other countries in the evaluated set on the same question "
                             "(leave-one-country-out); uses other countries' real answers to the test question.",
                 uses="none")
def loo_mean(items: Sequence[SurveyItem], context: Context) -> list[Prediction]:
    pool = by_question(items)
    return [mean_excluding_group(pool, item) for item in items]


@register_method("train_prior", "Mean of all training distributions with the same number of options: "
                                "a prior for unseen questions.", uses="train")
def train_prior(items: Sequence[SurveyItem], context: Context) -> list[Prediction]:
    by_k = defaultdict(list)
    for item in context.train:
        by_k[item.n_options].append(item.distribution)
    prior = {k: mean_of(v) for k, v in by_k.items()}
    return [prior.get(item.n_options) for item in items]


@register_method("country_prior", "The country's own mean answer over the training questions with the same number of "
                                  "options, shrunk towards train_prior as if it had w more rows of it: a prior for "
                                  "unseen questions that keeps a country's leanings (extreme or middle answers, "
                                  "agreeing); train_prior for a country with no such rows.", uses="train")
def country_prior(items: Sequence[SurveyItem], context: Context, w: float = 5.0) -> list[Prediction]:
    by_group = defaultdict(list)
    for item in context.train:
        by_group[(item.group_key, item.n_options)].append(item.distribution)
    predictions = []
    for item, prior in zip(items, train_prior(items, context), strict=True):
        own = by_group.get((item.group_key, item.n_options), [])
        if prior is None:  # no training question has this many options: nothing to shrink towards
            predictions.append(mean_of(own))
        else:
            predictions.append((np.sum(own, axis=0) + w * prior) / (len(own) + w) if own else prior)
    return predictions


@register_method("population_prior", "What is known without the country: the mean of the training countries' answers "
                                     "to the question where any exist, else the training prior for its number of "
                                     "options, else uniform.", uses="train")
def population_prior(items: Sequence[SurveyItem], context: Context) -> list[Prediction]:
    fallbacks = zip(avg_culture(items, context), train_prior(items, context), uniform(items, context), strict=True)
    return [next(p for p in candidates if p is not None) for candidates in fallbacks]
