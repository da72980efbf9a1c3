"""Baselines: predictions that need no language model, registered by name.

A baseline is `predict(train, test) -> list[np.ndarray | None]`: one distribution per test
item, or None where the baseline has nothing to say (e.g. no training country answered the
question). Evaluation reports that coverage instead of silently filling in.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data import Dataset
from ..registry import Registry

Prediction = np.ndarray | None
Baseline = Callable[[Dataset, Dataset], list[Prediction]]
BASELINES: Registry[Baseline] = Registry("baseline")
DESCRIPTIONS: dict[str, str] = {}


def register_baseline(name: str, description: str):
    def add(fn: Baseline) -> Baseline:
        DESCRIPTIONS[name] = description
        return BASELINES.add(name, fn)

    return add


def get_baseline(name: str) -> Baseline:
    return BASELINES.get(name)


from . import knn, model_free  # noqa: E402,F401  (registers the baselines)
