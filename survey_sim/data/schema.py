"""The typed records every loader produces.

A `SurveyItem` is one (question, group) pair with the real answer distribution over the
question's options. A `Dataset` is a list of items plus a `LoadReport` that says what the
loader had to fix or drop on the way in. Everything downstream (prompts, scoring,
metrics, baselines, the app) works on these two types only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Literal

import numpy as np
import pandas as pd

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # the option letters, (A) to (Z)
MAX_OPTIONS = len(LETTERS)

Lang = Literal["en", "zh"]


class DataError(ValueError):
    """A data file could not be loaded. The message names the file, the row and the field."""

    def __init__(self, file: str, problems: list[str]):
        self.file = file
        self.problems = problems
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{file}: {len(problems)} problem(s); nothing was loaded:\n  {shown}{more}")


@dataclass(frozen=True)
class SurveyItem:
    """One survey question asked of one group, with the real answer shares.

    Args:
        survey: the source survey, e.g. "wvs", "pew", "gss".
        question_id: the survey's id for the question (e.g. "Q46", "164"); None when unknown.
        question: the question text as it is put to the model.
        options: answer option texts in the survey's own order (None when the source has
            none, as the paper's training file `custom_dataset.json` read raw).
        lang: language of question and options.
        group: the group that answered: a country name as the source writes it, or a
            described subpopulation ("Democrats in the United States").
        iso3: ISO 3166 alpha-3 code of the country, None for non-country groups or
            unmapped names (never guessed).
        distribution: answer shares aligned with `options`, non-negative, summing to 1.
        source: file the row came from; row: its 0-based index there.
        dropped_mass: share of answers in non-substantive options ("Don't know", ...)
            that were removed before renormalising (0 when nothing was removed).
        source_letters: the letter of each option in the source file, where it is not simply
            A, B, C... in order: the paper's training file labels a code-0 answer ("Disagree",
            "Hard to say") "X", e.g. "XAB". Only `--paper-literal` training reads it.
    """

    survey: str
    question_id: str | None
    question: str
    options: tuple[str, ...] | None
    lang: Lang
    group: str
    iso3: str | None
    distribution: np.ndarray
    source: str = ""
    row: int = -1
    dropped_mass: float = 0.0
    source_letters: str | None = None

    @property
    def n_options(self) -> int:
        return len(self.distribution)

    @property
    def key(self) -> tuple[str, str]:
        """Identity of the question: its id where known, else its text."""
        return (self.survey, self.question_id or self.question)

    @property
    def group_key(self) -> str:
        """Identity of the group: its ISO code where it is a country, else its name."""
        return self.iso3 or self.group


@dataclass
class LoadReport:
    """What a loader did to the rows of one file, for `survey-sim data report` and the app."""

    source: str
    rows_read: int = 0
    rows_kept: int = 0
    renormalised: int = 0  # sum was off by rounding (within tolerance) and was rescaled
    dropped: list[str] = field(default_factory=list)  # "row 12: all shares are zero"
    warnings: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)  # groups a cross-source check left out

    def summary(self) -> str:
        parts = [f"{self.source}: {self.rows_kept}/{self.rows_read} rows kept"]
        if self.renormalised:
            parts.append(f"{self.renormalised} renormalised")
        if self.dropped:
            parts.append(f"{len(self.dropped)} dropped")
        return ", ".join(parts)


FRAME_COLUMNS = ("survey", "question_id", "question", "options", "n_options", "lang", "group", "iso3",
                 "distribution", "dropped_mass", "source", "row")


@dataclass
class Dataset:
    """A named collection of survey items with the reports of the files it came from."""

    name: str
    items: list[SurveyItem]
    reports: list[LoadReport] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[SurveyItem]:
        return iter(self.items)

    def subset(self, keep: Iterable[bool] | None = None, name: str | None = None, **where) -> "Dataset":
        """Items where `keep` is true, or whose attributes equal / are in `where` values."""
        items = self.items
        if keep is not None:
            items = [it for it, k in zip(items, keep) if k]
        for attr, wanted in where.items():
            wanted_set = set(wanted) if isinstance(wanted, (set, list, tuple, frozenset)) else {wanted}
            items = [it for it in items if getattr(it, attr) in wanted_set]
        return Dataset(name or self.name, items, self.reports)

    def questions(self) -> list[tuple[str, str]]:
        return sorted({it.key for it in self.items}, key=str)

    def groups(self) -> list[str]:
        return sorted({it.group for it in self.items})

    def to_frame(self) -> pd.DataFrame:
        """One row per (question, group); `distribution` and `options` kept as objects."""
        return pd.DataFrame({column: [getattr(it, column) for it in self.items] for column in FRAME_COLUMNS})
