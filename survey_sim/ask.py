"""Ask the world: a question nobody surveyed, put to the simulator once per country.

The items built here have no real answers: their `distribution` is NaN and only says how many
options there are. Everything shown from them is a simulation, never survey data.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .data.countries import display_name
from .data.schema import MAX_OPTIONS, SurveyItem

# The app's example (and the benchmark's): a question no survey here asked.
EXAMPLE_QUESTION = "How much do you trust artificial intelligence to make decisions that affect your life?"
EXAMPLE_OPTIONS = "A great deal\nQuite a lot\nNot very much\nNone at all"


def parse_options(text: str) -> list[str]:
    """One option per non-empty line; a leading "(A)", "A)" or "A." letter is dropped."""
    options = []
    for line in text.splitlines():
        line = line.strip()
        if len(line) > 2 and line[0] == "(" and line[2] == ")":
            line = line[3:].strip()
        elif len(line) > 1 and line[0].isalpha() and line[1] in ").":
            line = line[2:].strip()
        if line:
            options.append(line)
    return options


def check_question(question: str, options: list[str]) -> None:
    """ValueError naming the field that is wrong."""
    if not question.strip():
        raise ValueError("question: empty; type the question as it would be asked")
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise ValueError(f"options: {len(options)} given; a question needs 2 to {MAX_OPTIONS}, one per line")
    repeated = [text for text, n in Counter(options).items() if n > 1]
    if repeated:
        raise ValueError(f"options: {repeated[0]!r} is listed twice")


def country_items(question: str, options: list[str], countries: Mapping[str, str], lang: str = "en") -> list[SurveyItem]:
    """One item per country (iso3 -> name used in the prompt), with unknown (NaN) real answers."""
    check_question(question, options)
    return [SurveyItem(survey="custom", question_id=None, question=question.strip(), options=tuple(options),
                       lang=lang, group=name, iso3=iso3, distribution=np.full(len(options), np.nan))
            for iso3, name in sorted(countries.items(), key=lambda pair: pair[1])]


def known_countries(primary: Iterable[SurveyItem], others: Iterable[Iterable[SurveyItem]] = ()) -> dict[str, str]:
    """iso3 -> a country name for the prompt, for every country in `primary` and `others`.

    Countries of `primary` (the training data) keep the name it uses most often: the model
    learnt those. Countries only in `others` get their common name ("South Africa"), since
    other sources write names the model never saw ("S. Africa", "Palest. ter.").
    """
    counts: dict[str, Counter] = {}
    for item in primary:
        if item.iso3 and item.lang == "en":
            counts.setdefault(item.iso3, Counter())[item.group] += 1
    names = {iso3: c.most_common(1)[0][0] for iso3, c in counts.items()}
    for dataset in others:
        names.update({it.iso3: display_name(it.iso3) for it in dataset if it.iso3 and it.iso3 not in names})
    return names


def answers_table(items: list[SurveyItem], simulated: list[np.ndarray], margin: float | None = None) -> pd.DataFrame:
    """One row per country: iso3, country, the most likely option (index, or `geo.TIE` where the
    top shares are within `margin`, default `geo.TIE_MARGIN`, and its text) and each option's share."""
    from .geo import TIE, TIE_MARGIN, top_answer

    margin = TIE_MARGIN if margin is None else margin
    options = list(items[0].options)
    shares = np.vstack(simulated)  # (countries, options)
    table = pd.DataFrame({"iso3": [it.iso3 for it in items], "country": [it.group for it in items]})
    table["majority"] = [top_answer(row, margin) for row in shares]
    table["most likely answer"] = [
        options[m] if m != TIE else "tie: " + " / ".join(o for o, s in zip(options, row) if s >= row.max() - margin)
        for m, row in zip(table["majority"], shares)]
    for j, option in enumerate(options):
        table[option] = shares[:, j]
    return table
