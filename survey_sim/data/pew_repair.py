"""Undo what `global_pew_test.json` did to Pew option texts, so that every question has one list.

The paper's copy of GlobalOpinionQA differs from `eval.json` (the other copy, never split) in
three ways, repaired here in this order:

1. **Written differently**: scale points as "1.0" for "1", texts wrapped in double quotes with
   their apostrophes dropped ('"Dont know"', '"Societys failures"'). Numbers are written as
   integers, wrapping quotes removed, and a text that equals one of `eval.json`'s options for
   the same question once quotes and apostrophes are ignored takes that option's spelling.
2. **Split at commas**: "Yes, respects personal freedoms" became "(A)Yes", "(B)respects
   personal freedoms". The shares stayed where the whole options were: the first n values
   belong to the n whole options, the rest are 0 (checked on all 23 rows that `eval.json` also
   holds: the same numbers, position by position). Fragments are rejoined
   - to a whole option list of the same question (from `eval.json`, or a row of this file
     with no sign of a split) that they spell out when joined consecutively by ", ", else
   - by joining fragments that start in lower case ("but might do") to the one before;
   and the repair holds only if every share past the whole options is 0, else the row is
   dropped. `build_pew` then prefers `eval.json`'s copy of a repaired (question, country).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from .schema import SurveyItem

ZERO = 1e-9


@dataclass(frozen=True)
class Repair:
    item: SurveyItem | None   # the repaired row, None when dropped
    action: str               # "whole list", "lower case" or why it was dropped


def has_fragments(options: Sequence[str]) -> bool:
    """An option starting in lower case is the tail of a split text."""
    return any(option[:1].islower() for option in options)


def loose(text: str) -> str:
    """A text without quotes, apostrophes, case and extra spaces, for comparing spellings."""
    return re.sub(r"\s+", " ", re.sub(r"[\"'’‘`´]", "", text)).strip().lower()


def tidy(text: str) -> str:
    """'"Dont know"' -> 'Dont know', '2.0' -> '2'."""
    if re.fullmatch(r"\d+\.0", text):
        return text[:-2]
    if len(text) > 1 and text.startswith('"') and text.endswith('"'):
        return text[1:-1].strip()
    return text


def same_loosely(a: Sequence[str], b: Sequence[str]) -> bool:
    """Two option lists that differ only in quotes, apostrophes, case and spaces."""
    return list(map(loose, a)) == list(map(loose, b))


def join_into(fragments: Sequence[str], whole: Sequence[str]) -> bool:
    """Whether consecutive fragments joined by ", " spell the options `whole` (loosely)."""
    position = 0
    for option in map(loose, whole):
        text = None
        while position < len(fragments) and text != option:
            piece = loose(fragments[position])
            text = piece if text is None else f"{text}, {piece}"
            position += 1
            if not option.startswith(text):
                return False
        if text != option:
            return False
    return position == len(fragments)


def join_lower_case(fragments: Sequence[str]) -> list[str]:
    joined: list[str] = []
    for fragment in fragments:
        if joined and fragment[:1].islower():
            joined[-1] = f"{joined[-1]}, {fragment}"
        else:
            joined.append(fragment)
    return joined


def whole_lists(trusted: Iterable[SurveyItem], others: Iterable[SurveyItem] = ()) -> dict[str, list[tuple[str, ...]]]:
    """Per question text, the option lists known whole: every list of `trusted` rows (eval.json),
    then lists of `others` with no sign of a split, the trusted ones first."""
    lists: dict[str, list[tuple[str, ...]]] = {}
    for item in trusted:
        _add(lists, item.question, tuple(item.options))
    for item in others:
        if not has_fragments(item.options):
            _add(lists, item.question, tuple(map(tidy, item.options)))
    return lists


def _add(lists: dict, question: str, options: tuple[str, ...]) -> None:
    known = lists.setdefault(question, [])
    if not any(same_loosely(options, other) for other in known):
        known.append(options)


def repair(item: SurveyItem, whole: dict[str, list[tuple[str, ...]]]) -> Repair | None:
    """None when the row needs nothing; else the repaired row (with what was done), or why it
    is dropped."""
    written = [tidy(o) for o in item.options]
    known = whole.get(item.question, [])
    found = {w for w in known if len(w) < len(written) and join_into(written, w)}
    if len(found) > 1:
        return Repair(None, f"split options fit {len(found)} whole lists")
    if found:
        options, action = list(found.pop()), "whole list"
    elif has_fragments(written) and not any(same_loosely(written, w) for w in known):
        options, action = join_lower_case(written), "lower case"
    else:
        options, action = written, None
    n = len(options)
    if action and item.distribution[n:].sum() > ZERO:
        return Repair(None, f"split options, but {item.distribution[n:].sum():.3f} of the shares sit past the "
                            f"{n} whole options")
    spelled = _spelling(options, known)
    if action is None and spelled == list(item.options):
        return None
    return Repair(replace(item, options=tuple(spelled), distribution=item.distribution[:n]), action or "spelling")


def _spelling(options: list[str], known: list[tuple[str, ...]]) -> list[str]:
    """Each option in the first whole list's spelling where it is the same text loosely."""
    spellings = {}
    for whole in reversed(known):   # the first (trusted) list wins
        spellings.update({loose(o): o for o in whole})
    return [spellings.get(loose(o), o) for o in options]
