"""Baselines: predictions that need no language model, registered by name.

A baseline is `predict(train, test) -> list[np.ndarray | None]`: one distribution per test
item, or None where the baseline has nothing to say (e.g. no training country answered the
question). Evaluation reports that coverage instead of silently filling in.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable

import numpy as np

from ..data import Dataset

Prediction = np.ndarray | None
Baseline = Callable[[Dataset, Dataset], list[Prediction]]
BASELINES: dict[str, Baseline] = {}
DESCRIPTIONS: dict[str, str] = {}


def register_baseline(name: str, description: str):
    def add(fn: Baseline) -> Baseline:
        if name in BASELINES:
            raise ValueError(f"baseline {name!r} registered twice")
        BASELINES[name] = fn
        DESCRIPTIONS[name] = description
        return fn

    return add


def get_baseline(name: str) -> Baseline:
    if name not in BASELINES:
        close = difflib.get_close_matches(name, BASELINES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown baseline {name!r}; available: {', '.join(sorted(BASELINES))}.{hint}")
    return BASELINES[name]


from . import model_free  # noqa: E402,F401  (registers the model-free baselines)
