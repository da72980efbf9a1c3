"""WVS question ids and option texts for the paper's C1-Q1 training file (`custom_dataset.json`).

The file holds 6,841 rows (46 countries x 150 questions, some missing) with question texts and
shares by letter, but no question ids and no option texts. Read by letter - A, B, C ... = WVS
answer codes 1, 2, 3 ... and "X" = code 0, a substantive answer such as "Disagree" or "Hard to
say" - it agrees with the independent GlobalOpinionQA copies wherever those are right
(`tests/test_paper_training_file.py`). Each distinct question gets its WVS number by the first
of three paths that decides, and keeps it for every country:

1. **text**: `Matcher.match_by_count`, the codebook text matcher with the options gate replaced
   by the option count (k letters = k positive codes; an "X" needs a substantive code 0);
2. **twin**: a GlobalOpinionQA WVS question with the same words (stemmed, stopwords out) that
   the matcher gave a number, whose answer codes fit the count;
3. **position**: the file lists each country's questions in questionnaire order (checked: the
   numbers found by paths 1 and 2 increase along the file). A run of unmatched questions
   between matched neighbours Qa and Qb is assigned in order when exactly as many unclaimed
   codebook questions lie strictly between a and b, each with a fitting option count.

A question none of these decides stays out, every row of it listed with the reason.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .schema import Dataset, LoadReport, SurveyItem
from .wvs import Matcher, QuestionMatch, WvsQuestion, align_count, candidates_by_qid, content_tokens


@dataclass(frozen=True)
class PaperQuestion:
    """One distinct question of the file."""
    text: str
    n_lettered: int     # answers A, B, C ...
    has_zero: bool      # an answer "X" (code 0) besides them
    position: int       # questionnaire order (see `paper_questions`)


def paper_questions(raw: Dataset) -> list[PaperQuestion]:
    """The distinct questions with their letters, in questionnaire order: each country's rows
    are one block in that order, so a question's position is its median rank within the
    blocks (a question missing from one block shifts the ranks there by one, not the median)."""
    ranks: dict[str, list[int]] = {}
    firsts: dict[str, SurveyItem] = {}
    rows_seen: Counter = Counter()   # per country: the rank of its next row
    for item in raw:
        ranks.setdefault(item.question, []).append(rows_seen[item.group])
        rows_seen[item.group] += 1
        firsts.setdefault(item.question, item)
    # sorted() is stable: equal medians keep the order of first appearance
    order = sorted(firsts, key=lambda text: float(np.median(ranks[text])))
    questions = []
    for position, text in enumerate(order):
        letters = firsts[text].source_letters or ""
        questions.append(PaperQuestion(text, len(letters.replace("X", "")), "X" in letters, position))
    return questions


def words(text: str) -> frozenset[str]:
    """What makes two wordings "the same question": their stemmed content words."""
    return frozenset(content_tokens(text))


def match_paper_questions(questions: Sequence[PaperQuestion], matcher: Matcher, codebook: Mapping[int, WvsQuestion],
                          twins: Mapping[frozenset, QuestionMatch]) -> tuple[dict[str, QuestionMatch], list[str]]:
    """A QuestionMatch per question text (number None where no path decides), and warnings."""
    by_qid = candidates_by_qid(codebook)
    matches = {}
    for q in questions:
        match = matcher.match_by_count(q.text, q.n_lettered, q.has_zero)
        if match.number is None:
            match = _twin_match(q, twins.get(words(q.text)), by_qid) or match
        matches[q.text] = match
    return _position_matches(questions, matches, codebook)


def _twin_match(q: PaperQuestion, twin: QuestionMatch | None, by_qid: Mapping[str, WvsQuestion]) -> QuestionMatch | None:
    if twin is None or twin.number is None:
        return None
    alignment = align_count(q.n_lettered, q.has_zero, by_qid[twin.qid])
    if alignment.problem:
        return None
    return QuestionMatch(q.text, twin.number, twin.score, f"twin: same words as the GlobalOpinionQA question matched to "
                         f"{twin.qid} ({twin.method})", f"matched {twin.qid} through its GlobalOpinionQA twin",
                         twin.qid, alignment.codes)


def _position_matches(questions: Sequence[PaperQuestion], matches: dict[str, QuestionMatch],
                      codebook: Mapping[int, WvsQuestion]) -> tuple[dict[str, QuestionMatch], list[str]]:
    """Fill runs of unmatched questions from their matched neighbours (path 3)."""
    ordered = sorted(questions, key=lambda q: q.position)
    numbers = [matches[q.text].number for q in ordered]
    known = [n for n in numbers if n is not None]
    if known != sorted(known) or len(set(known)) != len(known):
        return matches, ["matched numbers do not increase along the file: no question matched by position"]
    claimed = set(known)
    index = 0
    while index < len(ordered):
        if numbers[index] is not None:
            index += 1
            continue
        end = index
        while end < len(ordered) and numbers[end] is None:
            end += 1
        if index > 0 and end < len(ordered):
            low, high = numbers[index - 1], numbers[end]
            run = ordered[index:end]
            for q, match in zip(run, _fill_run(run, low, high, claimed, codebook)):
                if match is not None:
                    matches[q.text] = match
        index = end
    return matches, []


def _fill_run(run: Sequence[PaperQuestion], low: int, high: int, claimed: set[int],
              codebook: Mapping[int, WvsQuestion]) -> list[QuestionMatch | None]:
    """The run's questions matched in order to the unclaimed questions between Qlow and Qhigh,
    or all None when their number differs from the run's length or a count does not fit."""
    free = [codebook[n] for n in range(low + 1, high) if n in codebook and n not in claimed
            and not codebook[n].country_specific]
    if len(run) == 1:   # a single question: the one unclaimed question there with its option count
        free = [c for c in free if _fitting(run[0], c)]
    if len(free) != len(run):
        return [None] * len(run)
    result = []
    for q, question in zip(run, free):
        fitting = _fitting(q, question)
        if not fitting:
            return [None] * len(run)
        candidate, alignment = fitting[0]
        result.append(QuestionMatch(
            q.text, candidate.number, 0.0,
            f"position: between Q{low} and Q{high} in the file's questionnaire order, the only unclaimed "
            f"question{'s' if len(run) > 1 else ''} there with fitting option counts ({', '.join(c.qid for c in free)})",
            f"matched {candidate.qid} by position", candidate.qid, alignment.codes))
    return result


def _fitting(q: PaperQuestion, question: WvsQuestion) -> list:
    """(candidate, alignment) for the question and its variants whose answer codes fit q's count."""
    pairs = [(c, align_count(q.n_lettered, q.has_zero, c)) for c in (question, *question.variants)]
    return [(c, a) for c, a in pairs if a.problem is None]


def paper_items(raw: Dataset, matches: Mapping[str, QuestionMatch], codebook: Mapping[int, WvsQuestion],
                report: LoadReport) -> list[SurveyItem]:
    """The file's rows with their WVS id, the codebook's option texts and shares in WVS code
    order (code 0 first, as everywhere in `wvs`); rows of unmatched questions are reported."""
    by_qid = candidates_by_qid(codebook)
    items, unmatched = [], {}
    for item in raw:
        match = matches.get(item.question)
        if match is None or match.number is None:
            unmatched.setdefault(item.question, [match.reason if match else "not matched", 0])[1] += 1
            continue
        items.append(_with_codes(item, by_qid[match.qid], match.codes))
    for question, (reason, n) in unmatched.items():
        report.dropped.append(f"{n} rows of {question[:80]!r}: no WVS id ({reason})")
    return items


def _with_codes(item: SurveyItem, question: WvsQuestion, codes: tuple[int, ...]) -> SurveyItem:
    order = sorted(range(len(codes)), key=lambda i: codes[i])
    letters = item.source_letters
    return replace(item, question_id=question.qid, options=question.answer_texts(codes[i] for i in order),
                   distribution=item.distribution[order], source_letters="".join(letters[i] for i in order))
