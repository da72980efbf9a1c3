"""World Values Survey wave 7: the codebook, and a matcher that gives GlobalOpinionQA rows a
WVS question number.

GlobalOpinionQA's WVS/EVS rows carry no question id, only the questionnaire wording (sub-items
written "stem\\n\\nitem") and the answer texts. The paper's splits are defined by WVS number
(Q1 = 1-163, Q2 = 164-198, Q3 = 199-259), so every row needs one - or must stay out.

The matcher is deliberately simple and explainable, and it prefers no answer to a wrong one:

1. **Options gate.** The row's substantive options must pair one-to-one with the codebook's
   positive answer codes (plus code 0 where the codebook has a substantive code 0, such as
   "Don't belong" or "Disagree"), by text: exact after normalisation, else a fuzzy match.
   Different counts, or an option with no counterpart, rule a candidate out.
2. **Text score** (IDF-weighted word overlap, crude stemming). Two paths, each the weaker of
   two covers, the better path counts:
   - label: the codebook label's words occur in the question or options, and the question's
     own words - the item of a "stem\n\nitem" question, else the whole question - occur in
     the codebook texts (label and wordings). Battery members share a stem and differ by the
     item, so the item decides ("Justifiable: Stealing property");
   - wording: a full wording (WV7_English.jsonl, question_metadata.json) occurs in the
     question and the question's own words occur in that wording.
3. **Decision.** The best candidate must score at least `MIN_SCORE` (`MIN_SCORE_UNIQUE` when
   its options fit no other question), lead the best candidate with another number by
   `MIN_MARGIN`, not be a country-specific item (Q82_EU ...), and no question with another
   number whose options differ may fit the text clearly better. Otherwise the question stays
   unmatched, with the reason.

The GOQA option order is not always code order (scales listed 10..1, "Important" before
"Not mentioned", code 0 first), so a match also gives the WVS code of each option (`codes`).
"""
from __future__ import annotations

import difflib
import functools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from .manifest import question_sets
from .validation import option_text


MIN_SCORE = 0.5           # both covers of the text score (label in question, item explained) at least half
MIN_MARGIN = 0.15         # ... and clearly ahead of any question with another number
MIN_SCORE_UNIQUE = 0.3    # lower bar when the options themselves single out one question
UNIQUE_AGREEMENT = 0.95   # ... with (nearly) identical option texts
MIN_OPTION_SIMILARITY = 0.5  # a fuzzy option pair below this is "no counterpart"


# --- text normalisation -----------------------------------------------------------------

_QUOTES = str.maketrans({"’": "'", "‘": "'", "´": "'", "`": "'", "“": '"', "”": '"', "–": "-", "—": "-"})

# Words that say nothing about which question is meant.
STOPWORDS = frozenset("""
a an the of in on at to for from by with as and or but if is are was were be been being am do does did
you your yours i me my we our us it its this that these those there their they them he she his her
would could should will can may might what which who whom how when where why whether any some each
all following tell please say think about into than then so such very not no
""".split())

# British/American spellings and irregular plurals, so that both sides stem alike.
_SPELLING = {"labour": "labor", "favour": "favor", "neighbour": "neighbor", "neighbours": "neighbor",
             "defence": "defense", "children": "child", "childs": "child", "women": "woman",
             "men": "man", "people": "person", "wives": "wife"}


def normalise(text: str) -> str:
    """Lower case, one kind of quote and dash, single spaces."""
    return re.sub(r"\s+", " ", str(text).translate(_QUOTES)).strip().lower()


def stem(word: str) -> str:
    """A crude stemmer: spelling map, plural "s", then the first 6 letters.

    "interested"/"interest", "justified"/"justifiable", "governed"/"government" agree; it is
    only used to compare two texts, never shown.
    """
    word = _SPELLING.get(word, word)
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:6]


@functools.lru_cache(maxsize=None)   # the same texts are compared with every candidate
def content_tokens(text: str) -> tuple[str, ...]:
    """Stemmed words without stopwords ("'s" dropped), for question texts."""
    words = re.findall(r"[a-z0-9]+", normalise(text).replace("'s ", " "))
    return tuple(stem(w) for w in words if w not in STOPWORDS)


# --- non-substantive options ----------------------------------------------------------------

# The WVS/EVS codes below 1 as GlobalOpinionQA writes them: negative codes (don't know, no answer,
# not asked, missing) and the spontaneous "against democracy" answer (code 0 of Q241-Q249), which
# lies outside the 1-10 scale. "Don't -9:-2" is a truncated "Don't know" label in the source.
_NON_SUBSTANTIVE_EXACT = {
    "don't know", "no answer", "no answer/refused", "not asked", "not asked in survey",
    "not asked in this country", "not applicable", "don't -9:-2", "missing",
    "it is against democracy (spontaneous)",
}
_NON_SUBSTANTIVE_PREFIXES = ("other missing", "missing;", "missing,", "inap")

# Texts that only WVS/EVS rows carry (Pew writes "DK/Refused", "Don't know/Refused").
# Case matters: a few non-WVS rows say "Don't Know" / "No Answer".
_WVS_MARKERS = {"Don't know", "No answer", "No answer/refused", "Don't -9:-2"}
_WVS_MARKER_PREFIXES = ("Other missing;", "Missing;", "INAP")


def is_non_substantive(option) -> bool:
    # global_pew_test.json writes '"Dont know"' (quoted, no apostrophe)
    text = normalise(option_text(option)).strip('"').replace("dont ", "don't ")
    return text in _NON_SUBSTANTIVE_EXACT or text.startswith(_NON_SUBSTANTIVE_PREFIXES)


def substantive_mask(options: Sequence) -> list[bool]:
    """True for answers, False for don't know / no answer / missing / not asked / spontaneous
    out-of-scale answers. Code-0 answers that are real answers ("Don't belong", "Disagree",
    "Hard to say") stay True; `QuestionMatch.codes` tells which code each option has."""
    return [not is_non_substantive(o) for o in options]


def is_wvs_row(options: Sequence) -> bool:
    """A GlobalOpinionQA row from WVS/EVS: it has a WVS-style non-substantive option."""
    texts = [option_text(o).translate(_QUOTES) for o in options]
    return any(t in _WVS_MARKERS or t.startswith(_WVS_MARKER_PREFIXES) for t in texts)


# --- the codebook -----------------------------------------------------------------------

@dataclass(frozen=True)
class WvsQuestion:
    number: int
    qid: str                       # codebook key: "Q46", or a variant such as "Q33_3"
    label: str                     # short codebook label, "Feeling of happiness"
    wording: str                   # the fullest wording known (WV7_English, else metadata, else label)
    choices: tuple[str, ...]       # substantive answers, codes 1..k in order
    zh_question: str | None = None
    zh_choices: tuple[str, ...] | None = None
    other_codes: tuple[tuple[int, str], ...] = ()   # codes <= 0: 0 = "Don't belong" etc., < 0 missing
    wordings: tuple[str, ...] = ()                  # every known wording, for matching
    variants: tuple["WvsQuestion", ...] = ()        # same number, other answer coding (Q33_3, Q82_EU)
    # Q82 and its variants (Q82_EU ...): each country was asked about its own regional
    # organisation, so Q82 is not one question across countries.
    country_specific: bool = False

    @property
    def zero_choice(self) -> str | None:
        """Text of code 0 where the codebook has one ("Don't belong", "Hard to say")."""
        return dict(self.other_codes).get(0)

    @property
    def split(self) -> str | None:
        return split_of(self.number)

    def answer_texts(self, codes) -> tuple[str, ...]:
        """The codebook's texts for WVS answer codes (1..k, and a substantive code 0)."""
        texts = dict(enumerate(self.choices, start=1)) | {0: self.zero_choice}
        return tuple(texts[code] for code in codes)


def split_of(number: int | None) -> str | None:
    """"Q1" / "Q2" / "Q3" of the paper (data/datasets.toml) for a WVS number; None outside them or for None."""
    for name, (low, high) in question_sets().items():
        if number is not None and low <= number <= high:
            return name
    return None


_QUESTION_ID = re.compile(r"Q?(\d+)(?:_[A-Z0-9]+|R)?")   # "Q46", "164", a variant coding "Q33_3"


def number_of(question_id: str | None) -> int | None:
    """The WVS question number of an id: "Q46" -> 46, "164" -> 164, "Q33_3" (Q33 coded on
    another answer scale) -> 33; None for anything else."""
    match = _QUESTION_ID.fullmatch(question_id or "")
    return int(match.group(1)) if match else None


_SCALE_PREFIX = re.compile(r"^On a scale of \d+ to \d+, \d+ meaning '.*?' and \d+ meaning '.*?', ")
_VARIANT_KEY = re.compile(r"^Q(\d+)(_[A-Z0-9]+|R)$")   # Q33_3, Q82_EU, Q94R (not Q234A: another item)


def _read_jsonl(path: Path) -> dict[str, dict]:
    if not path.is_file():
        return {}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {row["id"]: row for row in rows}


def _make_question(key: str, number: int, entry: dict, wordings: list[str], zh: dict | None) -> WvsQuestion | None:
    codes = sorted((int(code), text) for code, text in entry.get("choices", {}).items())
    positive = [text for code, text in codes if code > 0]
    if len(positive) < 2 or [c for c, _ in codes if c > 0] != list(range(1, len(positive) + 1)):
        return None   # not a closed question with answer codes 1..k (years, party lists with gaps)
    label = entry.get("question", "").strip()
    wordings = [w for w in wordings if w]
    return WvsQuestion(
        number=number, qid=key, label=label, wording=wordings[0] if wordings else label,
        choices=tuple(positive),
        zh_question=zh["question"] if zh else None,
        zh_choices=tuple(zh["choices"]) if zh else None,
        other_codes=tuple((code, text) for code, text in codes if code <= 0),
        wordings=tuple(wordings),
        # Q82 "Major regional organization (combined from country-specific)".
        country_specific="country-specific" in label,
    )


def load_codebook(wvs_dir: Path) -> dict[int, WvsQuestion]:
    """Q1..Q259 of `codebook.json` with at least two positive answer codes, keyed by number,
    with wordings from WV7_English.jsonl and question_metadata.json and Chinese texts from
    WV7_Chinese.jsonl where present. Variant keys (Q33_3 ...) hang off their base question."""
    wvs_dir = Path(wvs_dir)
    codebook = json.loads((wvs_dir / "codebook.json").read_text(encoding="utf-8"))
    meta_path = wvs_dir / "question_metadata.json"
    metadata = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    english = _read_jsonl(wvs_dir / "WV7_English.jsonl")
    chinese = _read_jsonl(wvs_dir / "WV7_Chinese.jsonl")

    def wordings(key: str) -> list[str]:
        meta = _SCALE_PREFIX.sub("", metadata.get(key, {}).get("question", "") or "")
        return [english.get(key, {}).get("question", ""), meta, codebook[key].get("question_instruction", "")]

    questions: dict[int, WvsQuestion] = {}
    for key, entry in codebook.items():
        match = re.fullmatch(r"Q(\d+)", key)
        if match and split_of(int(match.group(1))):  # the questions of the paper's splits
            question = _make_question(key, int(match.group(1)), entry, wordings(key), chinese.get(key))
            if question:
                questions[question.number] = question
    for key, entry in codebook.items():
        match = _VARIANT_KEY.fullmatch(key)
        base = questions.get(int(match.group(1))) if match else None
        variant = base and _make_question(key, base.number, entry, wordings(key), None)
        if variant:
            variant = replace(variant, country_specific=base.country_specific)
            questions[base.number] = replace(base, variants=base.variants + (variant,))
    return questions


def all_candidates(codebook: dict[int, WvsQuestion] | Iterable[WvsQuestion]) -> list[WvsQuestion]:
    """Every question and variant as a separate candidate."""
    questions = codebook.values() if isinstance(codebook, dict) else codebook
    return [c for q in questions for c in (q, *q.variants)]


def candidates_by_qid(codebook: dict[int, WvsQuestion] | Iterable[WvsQuestion]) -> dict[str, WvsQuestion]:
    """Every question and variant by its codebook key ("Q33", "Q33_3")."""
    return {c.qid: c for c in all_candidates(codebook)}


# --- options ------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)   # a few hundred distinct option texts, compared many times
def _option_similarity(option: str, choice: str) -> float:
    """1.0 for the same text; "1 There is no corruption" equals the scale point "1"; otherwise the
    larger of a character ratio and a word overlap ("A good deal" vs "A great deal"), and 0 for
    texts with no word in common unless spelt almost alike ("Equality" vs "Security" is 0)."""
    a, b = normalise(option), normalise(choice)
    if a == b:
        return 1.0
    leading = re.match(r"^(\d+)\b", a)
    if leading and b == leading.group(1):
        return 1.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    ta, tb = {stem(w) for w in re.findall(r"[a-z0-9]+", a)}, {stem(w) for w in re.findall(r"[a-z0-9]+", b)}
    if not ta & tb:   # no word in common: only a near-identical spelling counts (not "Agree"/"Disagree")
        return ratio if ratio >= 0.85 else 0.0
    return max(ratio, 2 * len(ta & tb) / (len(ta) + len(tb)))


@dataclass(frozen=True)
class OptionAlignment:
    codes: tuple[int | None, ...]   # WVS code of each option, None where unknown
    agreement: float                # mean similarity of the substantive pairs (1.0 = identical texts)
    problem: str | None             # why the options do not fit, None when they do


def align_options(options: Sequence, question: WvsQuestion) -> OptionAlignment:
    """Pair the substantive options with the question's answer codes (1..k, plus a substantive code 0)."""
    texts = [option_text(o) for o in options]
    mask = substantive_mask(texts)
    targets = {code: text for code, text in enumerate(question.choices, start=1)}
    zero = question.zero_choice
    if zero is not None and not is_non_substantive(zero):
        targets[0] = zero
    substantive = [i for i, keep in enumerate(mask) if keep]
    k = len(question.choices)
    if len(substantive) not in (k, k + (0 in targets)):
        return OptionAlignment((), 0.0, f"{len(substantive)} substantive options, {question.qid} has {k} answer codes")
    codes: dict[int, int] = {}
    pairs = sorted(((_option_similarity(texts[i], t), i, code) for i in substantive for code, t in targets.items()),
                   reverse=True)
    similarity = {}
    for score, i, code in pairs:   # greedy: the most similar pair first, each side used once
        if i not in codes and code not in codes.values() and score >= MIN_OPTION_SIMILARITY:
            codes[i], similarity[i] = code, score
    missing = [texts[i] for i in substantive if i not in codes]
    if missing:
        return OptionAlignment((), 0.0, f"option {missing[0]!r} has no counterpart in {question.qid} {list(targets.values())}")
    if len(substantive) == k and 0 in codes.values():
        return OptionAlignment((), 0.0, f"options pair with code 0 but leave a code of {question.qid} unused")
    others = {normalise(t): code for code, t in question.other_codes}
    all_codes = tuple(codes.get(i, others.get(normalise(t))) for i, t in enumerate(texts))
    return OptionAlignment(all_codes, sum(similarity.values()) / len(similarity), None)


def align_count(n_lettered: int, has_zero: bool, question: WvsQuestion) -> OptionAlignment:
    """The options gate for a source with shares by letter but no option texts (the paper's
    training file): letters A..k must be the k positive codes 1..k, and an extra answer "X" the
    question's substantive code 0. Codes come out in the source's order: 1..k, then 0."""
    k = len(question.choices)
    if n_lettered != k:
        return OptionAlignment((), 0.0, f"{n_lettered} lettered answers, {question.qid} has {k} answer codes")
    zero = question.zero_choice
    if has_zero and (zero is None or is_non_substantive(zero)):
        return OptionAlignment((), 0.0, f"an answer 'X' (code 0), but {question.qid} has no substantive code 0")
    return OptionAlignment((*range(1, k + 1), *([0] if has_zero else [])), 0.0, None)


# --- question text ------------------------------------------------------------------------

# The SimLLM files write a sub-item as "stem? - item" or "stem.- item" instead of "stem\n\nitem".
_DASH_ITEM = re.compile(r"^(?P<stem>.*[?.:!])\s*-\s+(?P<item>[^\n]+?)\s*$", re.S)


def split_item(question: str) -> tuple[str, str | None]:
    """"stem\\n\\nitem" (or "stem? - item") -> (stem, item); (question, None) without a sub-item."""
    text = str(question)
    stem_text, sep, item = text.partition("\n\n")
    if sep and item.strip():
        # "stem\n\nA. ...\n\nB. ..." lists the two statements of one question, not an item.
        if re.match(r"\s*A[.:)]\s", item):
            return text, None
        return stem_text, item
    dashed = _DASH_ITEM.match(text)
    return (dashed["stem"], dashed["item"]) if dashed else (text, None)


class _Weights:
    """Inverse document frequency of stems over all codebook texts: words that many questions
    share ("confidence", "justifiable") count little, rare ones ("abortion") much."""

    def __init__(self, docs: list[set[str]]):
        self.df = Counter(t for doc in docs for t in doc)
        self.n = len(docs)

    def __call__(self, token: str) -> float:
        return math.log(1 + self.n / (1 + self.df.get(token, 0)))

    def cover(self, part: Iterable[str], whole: set[str]) -> float:
        """Weighted share of the tokens of `part` that occur in `whole`."""
        part = set(part)
        total = sum(self(t) for t in part)
        return sum(self(t) for t in part if t in whole) / total if total else 0.0


# --- matching ------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuestionMatch:
    question: str                  # the GlobalOpinionQA question text
    number: int | None             # WVS question number, None when unmatched
    score: float                   # text score of the best candidate that passed the options gate
    method: str                    # how it matched (or the best attempt)
    reason: str                    # why unmatched, or what was checked
    qid: str | None = None         # codebook key matched ("Q33_3" for a variant)
    codes: tuple[int | None, ...] = ()   # WVS code of each option of the matched option list
    n_rows: int = 0                # GlobalOpinionQA rows with this question (set by match_all)

    @property
    def split(self) -> str | None:
        return split_of(self.number)


def _optional_parts_removed(text: str) -> str:
    """"The World Bank (WB)" -> "The World Bank", "[Continent; e.g. Europe, Asia etc.]" ->
    "[Continent; ]": bracketed abbreviations and examples are optional."""
    text = re.sub(r"\be\.g\.[^\])]*|\betc\.", " ", text)
    return re.sub(r"\([^)]*\)", " ", text)


def _forms(text: str) -> list[set[str]]:
    """A text's tokens as written and without its optional parts (empty forms dropped)."""
    forms = [set(content_tokens(text)), set(content_tokens(_optional_parts_removed(text)))]
    return [f for f in forms if f] or [set()]


class Matcher:
    """The codebook prepared for matching: candidates, their tokens and the word weights."""

    def __init__(self, codebook: dict[int, WvsQuestion] | Iterable[WvsQuestion]):
        self.candidates = all_candidates(codebook)
        self.known = [set(content_tokens(" ".join((c.label, *c.wordings)))) for c in self.candidates]
        self.weights = _Weights(self.known)
        self.labels = [_forms(c.label) for c in self.candidates]
        self.wordings = [[_forms(w) for w in c.wordings] for c in self.candidates]

    def _cover(self, parts: list[set[str]], whole: set[str]) -> float:
        return max(self.weights.cover(p, whole) for p in parts)

    def text_score(self, question: str, options: Sequence, index: int) -> tuple[float, str]:
        """How well the question's text fits candidate `index`: the better of two paths, each
        needing two things, so each scores the weaker of its two covers (IDF-weighted):

        - label: the label's words are in the question or options ("Justifiable: Abortion";
          "Religious person" is only in the options) and the question's own words - the item
          of a sub-item question, else the whole question - are in the codebook's texts;
        - wording: a full wording's words are in the question and the question's own words
          are in that wording.

        A whole question (no sub-item) also counts as explained when a full wording is
        found in it: long questions carry scale instructions no codebook text repeats.
        """
        _, item = split_item(question)
        asked = set(content_tokens(question))
        said = asked | set(content_tokens(" ".join(option_text(o) for o in options)))
        own = _forms(item) if item else [asked]
        wordings = self.wordings[index]
        wording_in = [self._cover(w, asked) for w in wordings]

        explained = self._cover(own, self.known[index])
        if not item:
            explained = max([explained, *wording_in])
        label_in = self._cover(self.labels[index], said)
        what = "item" if item else "question"
        best = (min(label_in, explained), f"label {label_in:.2f}, {what} {explained:.2f}")
        for w, w_in in zip(wordings, wording_in):
            score = min(w_in, self._cover(own, w[0] | w[-1]))
            if score > best[0]:
                best = (score, f"wording {w_in:.2f}, {what} {self._cover(own, w[0] | w[-1]):.2f}")
        return best

    def match(self, question: str, options: Sequence) -> QuestionMatch:
        scored = []   # (text score, detail, candidate, alignment), best text first
        for index, candidate in enumerate(self.candidates):
            score, detail = self.text_score(question, options, index)
            scored.append((score, detail, candidate, align_options(options, candidate)))
        return _decide_among(question, scored)

    def match_by_count(self, question: str, n_lettered: int, has_zero: bool) -> QuestionMatch:
        """`match` for a question with no option texts: the text alone decides, among the
        questions with as many answer codes (`align_count`). No "options unique" shortcut:
        an option count is no evidence of its own."""
        scored = []
        for index, candidate in enumerate(self.candidates):
            score, detail = self.text_score(question, (), index)
            scored.append((score, detail, candidate, align_count(n_lettered, has_zero, candidate)))
        return _decide_among(question, scored)


def _decide_among(question: str, scored: list) -> QuestionMatch:
    """Sort the (text score, detail, candidate, alignment) tuples and decide among those whose
    options fit."""
    scored.sort(key=lambda s: -s[0])
    fitting = [s for s in scored if s[3].problem is None]
    if not fitting:
        best = scored[0]
        return QuestionMatch(question, None, 0.0, "options",
                             f"no codebook question has these options; best text match {best[2].qid} "
                             f"({best[0]:.2f}) fails: {best[3].problem}")
    return _decide(question, scored, fitting)


def _decide(question: str, scored: list, fitting: list) -> QuestionMatch:
    """Accept the best fitting candidate only if it is good, unrivalled and not contradicted."""
    score, detail, best, alignment = fitting[0]
    rival = next((s for s in fitting if s[2].number != best.number), None)
    # A question with another number whose text fits clearly better but whose options do not:
    # the row is probably that question with other answer texts, not `best`.
    clash = next((s for s in scored if s[3].problem and s[2].number != best.number), None)
    # agreement 0: matched by option count alone (no option texts, `align_count`)
    options = f"options ({alignment.agreement:.2f})" if alignment.agreement else "option count"
    method = f"text ({detail}) + {options}"
    if best.qid != f"Q{best.number}":
        method += f", variant {best.qid}"
    rival_text = f"runner-up {rival[2].qid} {rival[0]:.2f}" if rival else "no runner-up"
    # Options that fit one question only, with the same texts, are evidence of their own.
    unique = rival is None and alignment.agreement >= UNIQUE_AGREEMENT
    threshold = MIN_SCORE_UNIQUE if unique else MIN_SCORE
    if unique:
        method += ", options unique"
    if score < threshold:
        reason = f"best {best.qid} scores {score:.2f} < {threshold} ({detail}); {rival_text}"
    elif best.country_specific:
        reason = (f"country-specific item {best.qid} ({best.label}): Q{best.number} asks about another "
                  f"organisation in each country, so it is not one question across countries")
    elif rival and score - rival[0] < MIN_MARGIN:
        reason = f"ambiguous: {best.qid} {score:.2f} vs {rival[2].qid} {rival[0]:.2f} (margin < {MIN_MARGIN})"
    elif clash and clash[0] - score >= MIN_MARGIN / 2:
        reason = (f"text fits {clash[2].qid} better ({clash[0]:.2f} vs {best.qid} {score:.2f}) "
                  f"but its options differ: {clash[3].problem}")
    else:
        return QuestionMatch(question, best.number, score, method, f"matched {best.qid}; {rival_text}",
                             best.qid, alignment.codes)
    return QuestionMatch(question, None, score, method, reason, best.qid)


def match_question(question: str, options: Sequence, codebook) -> QuestionMatch:
    """The WVS number of one GlobalOpinionQA question, or None with the reason.
    `codebook` is `load_codebook(...)` or a `Matcher` (faster for many questions)."""
    matcher = codebook if isinstance(codebook, Matcher) else Matcher(codebook)
    return matcher.match(question, options)


def match_all(rows: Iterable[dict], codebook) -> list[QuestionMatch]:
    """One match per distinct WVS question text of GlobalOpinionQA rows (non-WVS rows skipped).

    A question whose rows list different option texts must match the same number with every
    list; the codes of the first list are kept."""
    matcher = codebook if isinstance(codebook, Matcher) else Matcher(codebook)
    option_lists: dict[str, list[tuple[str, ...]]] = {}
    counts: Counter = Counter()
    for row in rows:
        if not is_wvs_row(row["options"]):
            continue
        texts = tuple(option_text(o) for o in row["options"])
        lists = option_lists.setdefault(row["question"], [])
        if texts not in lists:
            lists.append(texts)
        counts[row["question"]] += 1
    matches = []
    for question, lists in option_lists.items():
        results = [matcher.match(question, list(options)) for options in lists]
        numbers = {r.number for r in results}
        first = results[0]
        if len(numbers) > 1:
            first = QuestionMatch(question, None, first.score, first.method,
                                  f"option lists across countries match different numbers {sorted(map(str, numbers))}",
                                  first.qid)
        matches.append(_with_rows(first, counts[question]))
    return matches


def _with_rows(match: QuestionMatch, n_rows: int) -> QuestionMatch:
    return replace(match, n_rows=n_rows)


def match_report(matches: Sequence[QuestionMatch]) -> pd.DataFrame:
    """One line per question: number, split, score, method, reason, rows; matched first."""
    frame = pd.DataFrame([{
        "number": m.number, "qid": m.qid if m.number else None, "split": m.split,
        "score": round(m.score, 3), "rows": m.n_rows, "method": m.method, "reason": m.reason,
        "question": m.question.replace("\n\n", " || "),
    } for m in matches])
    if frame.empty:
        return frame
    frame["matched"] = frame["number"].notna()
    frame = frame.sort_values(["matched", "number", "question"], ascending=[False, True, True])
    return frame.reset_index(drop=True).astype({"number": "Int64"})


def match_rate(matches: Sequence[QuestionMatch]) -> dict[str, float]:
    """Matched share of questions and of rows."""
    questions = len(matches)
    rows = sum(m.n_rows for m in matches)
    matched = [m for m in matches if m.number is not None]
    return {
        "questions": questions, "matched_questions": len(matched),
        "rows": rows, "matched_rows": sum(m.n_rows for m in matched),
        "question_rate": len(matched) / questions if questions else 0.0,
        "row_rate": sum(m.n_rows for m in matched) / rows if rows else 0.0,
    }
