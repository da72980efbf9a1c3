"""Which GlobalOpinionQA WVS countries carry their own numbers: a check against the paper's files.

In both GlobalOpinionQA copies, WVS rows labelled Argentina carry the paper's Andorra numbers,
Australia the paper's Argentina, Armenia the paper's Bangladesh (labels shifted by one place
in WVS country-code order; see ../shared/README.md). Plausibility sides with the paper's files
(Andorra on homosexuality: paper 53% "always justifiable", GlobalOpinionQA 80% "never").

**Rule.** For every GlobalOpinionQA country, each row whose (question id, country) the paper's
files also hold is compared, by paper-compatible 1-JSD, with the paper's row of its own label
and of every other paper country on the same question. Two rows *agree* at 1-JSD >= `AGREE`
(0.95). A country with at least `MIN_CHECKED` (5) checkable rows is quarantined when fewer than
half of them agree with its own label, or when another country's rows agree with more of them
than its own do. Its GlobalOpinionQA rows then leave every split; the report gives the evidence.

Countries the paper's files do not hold (C2, C3 and others) cannot be checked this way; they are
checked against each other instead: a country whose distributions are exact copies of another
country's on at least half of their (at least `MIN_CHECKED`) shared questions is quarantined
with it, since which label is right cannot be told.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..metrics import one_minus_jsd_paper
from .schema import SurveyItem

AGREE = 0.95        # paper-compatible 1-JSD at which two copies of a row agree
MIN_CHECKED = 5     # fewer checkable rows decide nothing
DUPLICATE_ATOL = 1e-9


@dataclass(frozen=True)
class CountryCheck:
    """The evidence for one GlobalOpinionQA country."""
    country: str                 # ISO code (or group name without one)
    checked: int                 # rows the paper's files also hold
    own: int                     # ... agreeing with the paper's row of the same country
    best_other: str | None       # the other country whose paper rows agree with most of them
    best_other_agree: int
    quarantined: bool
    evidence: str

    @property
    def checkable(self) -> bool:
        return self.checked >= MIN_CHECKED


def check_against_paper(goqa: Iterable[SurveyItem], paper: Iterable[SurveyItem]) -> list[CountryCheck]:
    """One CountryCheck per GlobalOpinionQA country that the paper's files hold rows for."""
    reference: dict[str, dict[str, np.ndarray]] = defaultdict(dict)   # question id -> country -> shares
    for item in paper:
        reference[item.question_id][item.group_key] = item.distribution
    checked, own, other = Counter(), Counter(), defaultdict(Counter)
    for item in goqa:
        country, rows = item.group_key, reference.get(item.question_id, {})
        if country not in rows or len(rows[country]) != item.n_options:
            continue
        checked[country] += 1
        for name, shares in rows.items():
            if len(shares) == item.n_options and one_minus_jsd_paper(shares, item.distribution) >= AGREE:
                if name == country:
                    own[country] += 1
                else:
                    other[country][name] += 1
    return [_verdict(country, checked[country], own[country], other[country]) for country in sorted(checked)]


def _verdict(country: str, checked: int, own: int, other: Counter) -> CountryCheck:
    best, best_n = other.most_common(1)[0] if other else (None, 0)
    evidence = f"{own} of {checked} rows agree with its own label in the paper's files"
    if best:
        evidence += f", {best_n} with {best}'s"
    quarantined = checked >= MIN_CHECKED and (own < checked / 2 or best_n > own)
    return CountryCheck(country, checked, own, best, best_n, quarantined, evidence)


@dataclass(frozen=True)
class DuplicatePair:
    first: str
    second: str
    shared: int          # questions both answered (same option count)
    identical: int       # ... with exactly the same distribution

    @property
    def suspicious(self) -> bool:
        return self.shared >= MIN_CHECKED and self.identical >= self.shared / 2


def duplicate_pairs(items: Sequence[SurveyItem], countries: Iterable[str]) -> list[DuplicatePair]:
    """Pairs of the given countries with any identical distribution on a shared question."""
    wanted = set(countries)
    by_question: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
    for item in items:
        if item.group_key in wanted:
            by_question[item.question_id][item.group_key] = item.distribution
    shared, identical = Counter(), Counter()
    for rows in by_question.values():
        names = sorted(rows)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if len(rows[a]) == len(rows[b]):
                    shared[a, b] += 1
                    identical[a, b] += bool(np.allclose(rows[a], rows[b], atol=DUPLICATE_ATOL))
    return [DuplicatePair(a, b, shared[a, b], identical[a, b]) for a, b in sorted(identical) if identical[a, b]]
