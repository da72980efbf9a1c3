"""The paper's splits as data: question sets by WVS number, country sets by ISO code.

A split name is "<countries>-<questions>" ("C1-Q2"), just "<countries>" or "<questions>"
("C2", "Q3"), or "all". Definitions live in `data/datasets.toml`, not in code paths.
Leave-k-countries-out folds of a country set are seeded and reproducible.
"""
from __future__ import annotations

import random

from ..registry import UnknownName
from .manifest import question_sets, read_manifest
from .schema import Dataset, SurveyItem
from .wvs import number_of


def country_sets() -> dict[str, frozenset[str]]:
    return {name: frozenset(codes) for name, codes in read_manifest()["splits"]["countries"].items()}


def question_number(item: SurveyItem) -> int | None:
    """The WVS question number of an item ("Q164" -> 164, "Q33_3" -> 33); None for other surveys or no id."""
    if item.survey != "wvs" or not item.question_id:
        return None
    return number_of(item.question_id)


def in_range(item: SurveyItem, bounds: tuple[int, int]) -> bool:
    number = question_number(item)
    return number is not None and bounds[0] <= number <= bounds[1]


def split_names() -> list[str]:
    countries, questions = sorted(country_sets()), sorted(question_sets())
    return ["all", *countries, *questions, *(f"{c}-{q}" for c in countries for q in questions)]


def parse_split(name: str) -> tuple[str | None, str | None]:
    """"C1-Q2" -> ("C1", "Q2"); "C2" -> ("C2", None); "Q3" -> (None, "Q3"); "all" -> (None, None)."""
    if name == "all":
        return None, None
    countries, questions = country_sets(), question_sets()
    parts = name.split("-")
    country = next((p for p in parts if p in countries), None)
    question = next((p for p in parts if p in questions), None)
    if len(parts) != (country is not None) + (question is not None) or len(parts) > 2:
        raise UnknownName(f"unknown split {name!r}; use 'all', a country set {sorted(countries)}, "
                       f"a question set {sorted(questions)}, or both joined by '-', e.g. 'C1-Q2'")
    return country, question


def sample_groups(items: list[SurveyItem], fraction: float, seed: int = 0) -> list[SurveyItem]:
    """The rows of a seeded random share of the items' groups (at least one group): the training
    countries of a data-efficiency run. The same (groups, fraction, seed) picks the same groups."""
    if not 0 < fraction <= 1:
        raise ValueError(f"group fraction must be in (0, 1], got {fraction}")
    groups = sorted({item.group for item in items})
    kept = set(random.Random(seed).sample(groups, max(1, round(fraction * len(groups)))))
    return [item for item in items if item.group in kept]


def select(dataset: Dataset, split: str) -> Dataset:
    """The items of `dataset` in `split`. Items without an ISO code are outside every country set."""
    country, question = parse_split(split)
    countries = country_sets()[country] if country else None
    bounds = question_sets()[question] if question else None
    keep = [(countries is None or item.iso3 in countries) and (bounds is None or in_range(item, bounds))
            for item in dataset]
    return dataset.subset(keep, name=f"{dataset.name}:{split}")


def leave_countries_out_folds(countries: list[str] | frozenset[str], k: int = 10, seed: int = 0) -> list[tuple[list[str], list[str]]]:
    """Folds of (train countries, held-out countries), each holding out about k countries.

    The countries are shuffled with `seed` and cut into ceil(n / k) folds; every country is
    held out exactly once.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    order = sorted(countries)
    random.Random(seed).shuffle(order)
    n_folds = max(1, -(-len(order) // k))
    folds = [order[i::n_folds] for i in range(n_folds)]
    return [(sorted(set(order) - set(held)), sorted(held)) for held in folds]


def fold_countries(fold: int, seed: int = 0) -> list[str]:
    """The C1 countries held out in leave-10-countries-out fold `fold` (0-4)."""
    folds = leave_countries_out_folds(country_sets()["C1"], k=10, seed=seed)
    if not 0 <= fold < len(folds):
        raise ValueError(f"--fold must be 0..{len(folds) - 1}, got {fold}")
    return folds[fold][1]
