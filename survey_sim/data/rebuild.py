"""Data sets rebuilt from several files: a clean WVS wave 7 and a merged Pew.

The WVS data set joins three sources, each row given a WVS question id (the paper's splits are
defined by it) and the codebook's option texts:

- `sft_wvs_valid.json` (C1-Q2, ids given, option texts checked against the codebook);
- `custom_dataset.json`, the paper's C1-Q1 training file, read by letter, its questions given
  ids by `paper_c1q1` (text, GlobalOpinionQA twin, position in the file);
- the WVS/EVS rows of the two GlobalOpinionQA copies (`globalopinionqa-subset/eval.json` and
  the paper's `global_pew_test.json`), each question given a WVS number by `wvs.Matcher`, after
  the cross-source check of `cross_source`: countries whose rows carry another country's
  numbers are quarantined. Questions the matcher cannot place surely stay out.

Where sources overlap on a (question, country), the paper's files win (valid, then training
file) and disagreements are counted in the report. Only substantive answers are kept, in WVS
code order (code 0 answers such as "Don't belong" first), renormalised; the dropped share
("Don't know", "No answer", ...) is kept in `SurveyItem.dropped_mass`. Every question id has one
option list (the codebook's) and one question text (the paper's where it has the question).

The Pew data set merges the Pew rows of both copies, repairs options that
`global_pew_test.json` split at commas (`pew_repair`), drops "DK/Refused" the same way, and
keeps volunteered answers ("Neither (VOL)"). Where both copies hold a (question, country), the
paper's file wins unless its options were split.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import build_cache
from .cross_source import check_against_paper, duplicate_pairs
from .loaders import BUILDERS, load_file
from .manifest import DatasetSpec, dataset_spec
from .paper_c1q1 import match_paper_questions, paper_items, paper_questions, words
from .pew_repair import repair, whole_lists
from .schema import Dataset, LoadReport, SurveyItem
from .validation import option_text
from .wvs import Matcher, candidates_by_qid, is_non_substantive, is_wvs_row, load_codebook, normalise, number_of

PEW_NON_SUBSTANTIVE = {"dk/refused", "don't know/refused", "dont know/refused", "\"dont know/refused\"",
                       "refused", "don't know", "dk"}
AGREE_ATOL = 1e-3  # two copies "agree" when every share is within 0.1 percentage point


@lru_cache(maxsize=8)
def raw_file(name: str, root: str) -> tuple[DatasetSpec, Dataset]:
    """One raw file, parsed once per process: `wvs` and `pew` are both built from the same two."""
    spec = dataset_spec(name)
    return spec, load_file(Path(root) / spec.path, spec)


def raw_items(root: Path, names: list[str]) -> tuple[list[SurveyItem], LoadReport]:
    """Items of several raw files, deduplicated on (question text, country); the first file wins."""
    report = LoadReport(source=" + ".join(names))
    kept: dict[tuple, SurveyItem] = {}
    conflicts = 0
    for name in names:
        spec, dataset = raw_file(name, str(root))
        report.dropped += [f"{spec.path} {reason}" for reason in dataset.reports[0].dropped]
        report.rows_read += dataset.reports[0].rows_read
        for item in dataset:
            key = (item.question, item.group_key)
            first = kept.get(key)
            if first is None:
                kept[key] = item
            elif first.n_options != item.n_options or not np.allclose(first.distribution, item.distribution, atol=AGREE_ATOL):
                conflicts += 1
    report.warnings.append(f"{conflicts} (question, country) pairs differ between the copies; kept {names[0]}'s")
    return list(kept.values()), report


def keep_answers(item: SurveyItem, keep: list[int]) -> SurveyItem | None:
    """The item restricted to the option positions `keep` (in that order), renormalised."""
    shares = item.distribution[keep]
    if shares.sum() <= 0:
        return None
    return replace(item, options=tuple(item.options[i] for i in keep), distribution=shares / shares.sum(),
                   dropped_mass=max(0.0, float(1 - shares.sum())))


def wvs_answer_order(item: SurveyItem, codes: tuple) -> list[int]:
    """Positions of the substantive options (code >= 0), sorted by WVS code."""
    positions = [i for i, code in enumerate(codes)
                 if code is not None and code >= 0 and not is_non_substantive(item.options[i])]
    return sorted(positions, key=lambda i: codes[i])


def canonical_groups(items: list[SurveyItem]) -> dict[str, str]:
    """One name per ISO code (the first seen), so "Macao SAR" and "Macau SAR" are one group."""
    names: dict[str, str] = {}
    for item in items:
        if item.iso3:
            names.setdefault(item.iso3, item.group)
    return names


def build_wvs(spec: DatasetSpec, root: Path) -> Dataset:
    codebook = load_codebook(root / "wvs7-codebook")
    matcher = Matcher(codebook)
    valid_spec = dataset_spec("wvs_valid")
    valid = load_file(root / valid_spec.path, valid_spec)
    goqa, goqa_report, twins = goqa_wvs_items(root, matcher, codebook)
    paper, paper_report = paper_training_items(root, matcher, codebook, twins)
    goqa = quarantine(goqa, [*valid, *paper], goqa_report)
    merged = merge_sources([("sft_wvs_valid.json", valid), ("custom_dataset.json", paper),
                            ("GlobalOpinionQA", goqa)], goqa_report)
    merged = one_text_per_question(merged)
    return Dataset(spec.name, sorted(merged, key=lambda it: (number_of(it.question_id), it.question_id, it.group)),
                   [valid.reports[0], paper_report, goqa_report])


def goqa_wvs_items(root: Path, matcher: Matcher, codebook) -> tuple[list[SurveyItem], LoadReport, dict]:
    """The GlobalOpinionQA WVS rows with ids, substantive answers in code order and the codebook's
    option texts; and the matched questions by their words (twins for the paper's file)."""
    raw, report = raw_items(root, ["pew_raw", "goqa_raw"])
    by_qid = candidates_by_qid(codebook)
    matches, twins, unmatched, items = {}, {}, {}, []
    for item in raw:
        if not is_wvs_row(item.options):
            continue
        match = matches.get((item.question, item.options))
        if match is None:
            match = matches[(item.question, item.options)] = matcher.match(item.question, list(item.options))
        if match.number is None:
            unmatched[item.question] = match.reason
            continue
        twins.setdefault(words(item.question), match)
        order = wvs_answer_order(item, match.codes)
        clean = keep_answers(item, order)
        if clean is None:
            report.dropped.append(f"Q{match.number} {item.group}: no substantive answers")
            continue
        texts = by_qid[match.qid].answer_texts(match.codes[i] for i in order)
        items.append(replace(clean, survey="wvs", question_id=match.qid, options=texts))   # "Q33_3": a variant coding
    report.warnings += [f"unmatched, kept out: {q[:90]!r}: {why}" for q, why in sorted(unmatched.items())]
    return items, report, twins


def paper_training_items(root: Path, matcher: Matcher, codebook, twins: dict) -> tuple[list[SurveyItem], LoadReport]:
    """The paper's C1-Q1 training file with WVS ids and option texts (see `paper_c1q1`)."""
    raw_spec = dataset_spec("wvs_c1q1_paper")
    raw = load_file(root / raw_spec.path, raw_spec)
    report = raw.reports[0]
    matches, warnings = match_paper_questions(paper_questions(raw), matcher, codebook, twins)
    report.warnings += warnings
    paths = Counter(m.method.split(":")[0].split(" (")[0] for m in matches.values() if m.number is not None)
    report.warnings.append(f"{sum(paths.values())} of {len(matches)} questions given a WVS id: "
                           + ", ".join(f"{n} by {path}" for path, n in paths.most_common()))
    items = [replace(it, survey="wvs") for it in paper_items(raw, matches, codebook, report)]
    report.rows_kept = len(items)
    return items, report


def quarantine(goqa: list[SurveyItem], paper: list[SurveyItem], report: LoadReport) -> list[SurveyItem]:
    """The GlobalOpinionQA items without the countries the cross-source check quarantines."""
    checks = check_against_paper(goqa, paper)
    out = {c.country for c in checks if c.quarantined}
    for check in checks:
        if check.quarantined:
            report.warnings.append(f"QUARANTINED {check.country}: {check.evidence}; its GlobalOpinionQA rows are left out")
    unchecked = sorted({it.group_key for it in goqa} - {c.country for c in checks if c.checkable})
    pairs = duplicate_pairs(goqa, unchecked)
    for pair in pairs:
        verdict = "both QUARANTINED" if pair.suspicious else "kept"
        report.warnings.append(f"{pair.first} and {pair.second}: {pair.identical} of {pair.shared} shared questions "
                               f"have identical distributions ({verdict})")
        if pair.suspicious:
            out |= {pair.first, pair.second}
    report.warnings.append(
        f"cross-source check: {sum(c.checkable for c in checks)} countries checked against the paper's files "
        f"({sum(c.quarantined for c in checks)} quarantined); {len(unchecked)} have too few rows there "
        f"({', '.join(unchecked)}) and were checked against each other for copied distributions "
        f"({len(pairs)} pairs share any)")
    report.quarantined = sorted(out)
    return [it for it in goqa if it.group_key not in out]


def merge_sources(sources: list[tuple[str, list[SurveyItem]]], report: LoadReport) -> list[SurveyItem]:
    """One item per (question id, country): the first source that holds it wins; rows of later
    sources that differ by more than one percentage point are counted per pair of sources."""
    names = canonical_groups([it for _, items in sources for it in items])
    merged: dict[tuple, tuple[str, SurveyItem]] = {}
    disagree: Counter = Counter()
    overlap: Counter = Counter()
    for source, items in sources:
        for item in items:
            key = (item.question_id, item.group_key)
            if key in merged:
                first, kept = merged[key]
                overlap[first, source] += 1
                disagree[first, source] += kept.n_options != item.n_options or not np.allclose(
                    kept.distribution, item.distribution, atol=0.01)
                continue
            merged[key] = (source, replace(item, group=names.get(item.iso3, item.group)))
    for (first, later), n in sorted(overlap.items()):
        report.warnings.append(f"{n} (question, country) pairs in both {first} and {later}: "
                               f"{disagree[first, later]} differ by over 1 point; kept {first}'s")
    kept = Counter(source for source, _ in merged.values())
    report.warnings.append("rows kept by source: " + ", ".join(f"{kept[name]} from {name}" for name, _ in sources))
    report.rows_kept = kept[sources[-1][0]]
    return [item for _, item in merged.values()]


def one_text_per_question(items: list[SurveyItem]) -> list[SurveyItem]:
    """Every row of a question id gets the same question text: the first source's (the paper's
    files come first), so test prompts read as the training prompts did."""
    texts: dict[str, str] = {}
    for item in items:
        texts.setdefault(item.question_id, item.question)
    return [replace(item, question=texts[item.question_id]) for item in items]


def build_pew(spec: DatasetSpec, root: Path) -> Dataset:
    report = LoadReport(source="pew_raw + goqa_raw (Pew rows)")
    paper, goqa = (pew_rows(name, root, report) for name in ("pew_raw", "goqa_raw"))
    paper, repaired = repair_split_options(paper, whole_lists(goqa, paper), report)
    kept: dict[tuple, SurveyItem] = {}
    replaced = conflicts = 0
    for item in [*paper, *goqa]:   # the paper's copy first ...
        key = (item.question, item.group_key)
        first = kept.get(key)
        if first is None:
            kept[key] = item
        elif key in repaired:      # ... unless its options had to be repaired
            kept[key], replaced = item, replaced + 1
        elif first.options != item.options or not np.allclose(first.distribution, item.distribution, atol=AGREE_ATOL):
            conflicts += 1
    report.warnings.append(f"{replaced} repaired rows replaced by eval.json's copy of the same (question, country)")
    report.warnings.append(f"{conflicts} (question, country) pairs differ between the copies; kept global_pew_test.json's")
    items = [clean for item in kept.values() if (clean := substantive_pew(item, report)) is not None]
    report.rows_kept = len(items)
    return Dataset(spec.name, items, [report])


def pew_rows(name: str, root: Path, report: LoadReport) -> list[SurveyItem]:
    """The Pew (not WVS) rows of one raw file; its dropped rows go into `report`."""
    spec, dataset = raw_file(name, str(root))
    report.rows_read += dataset.reports[0].rows_read
    report.dropped += [f"{spec.path} {reason}" for reason in dataset.reports[0].dropped]
    return [replace(item, survey="pew", question_id=None) for item in dataset if not is_wvs_row(item.options)]


def repair_split_options(items: list[SurveyItem], whole: dict, report: LoadReport) -> tuple[list[SurveyItem], set]:
    """Rows whose options were split at commas or written differently, repaired (or dropped)
    and counted in the report; and the (question, country) keys of the split ones."""
    out, split, actions = [], set(), Counter()
    for item in items:
        fixed = repair(item, whole)
        if fixed is None:
            out.append(item)
            continue
        actions[fixed.action if fixed.item else "dropped"] += 1
        if fixed.action != "spelling":
            split.add((item.question, item.group_key))
        if fixed.item is None:
            report.dropped.append(f"{item.source} row {item.row} ({item.group}): {fixed.action}")
        else:
            out.append(fixed.item)
    report.warnings.append(f"{len(split)} rows of global_pew_test.json had options split at commas: "
                           f"{actions['whole list']} rejoined as the question's whole option list, "
                           f"{actions['lower case']} by joining lower-case fragments, {actions['dropped']} dropped")
    report.warnings.append(f"{actions['spelling']} more rows wrote options differently (1.0 for 1, quotes for "
                           "apostrophes): respelled as eval.json writes them")
    return out, split


def substantive_pew(item: SurveyItem, report: LoadReport) -> SurveyItem | None:
    """The row without "DK/Refused" and the like, renormalised; None (reported) below 2 answers."""
    keep = [i for i, o in enumerate(item.options) if normalise(option_text(o)) not in PEW_NON_SUBSTANTIVE]
    clean = keep_answers(item, keep)
    if clean is None or clean.n_options < 2:
        report.dropped.append(f"{item.group} on {item.question[:60]!r}: fewer than 2 substantive answers")
        return None
    return clean


def build_wvs_zh(spec: DatasetSpec, root: Path) -> Dataset:
    """The rebuilt WVS in Chinese: C1-Q2 from `sft_wvs_zh_valid.json`, other rows where
    `WV7_Chinese.jsonl` has the question with as many answers as the English row."""
    zh_spec = dataset_spec("wvs_valid_zh")
    valid_zh = load_file(root / zh_spec.path, zh_spec)
    have = {(it.question_id, it.group_key) for it in valid_zh}
    codebook = load_codebook(root / "wvs7-codebook")
    report = LoadReport(source="wvs rows with WV7_Chinese.jsonl texts")
    items = []
    for item in cached_build("wvs", str(root)):
        report.rows_read += 1
        if (item.question_id, item.group_key) in have:
            continue
        question = codebook.get(number_of(item.question_id))
        if question is None or not question.zh_question or len(question.zh_choices or ()) != item.n_options:
            continue
        items.append(replace(item, question=question.zh_question, options=tuple(question.zh_choices), lang="zh"))
    report.rows_kept = len(items)
    report.warnings.append(f"{report.rows_read - len(items) - len(have)} English rows have no Chinese text "
                           "with the same number of answers")
    return Dataset(spec.name, [*valid_zh, *items], [valid_zh.reports[0], report])


BUILDS = {"wvs_rebuilt": build_wvs, "pew_merged": build_pew, "wvs_rebuilt_zh": build_wvs_zh}


@lru_cache(maxsize=8)
def cached_build(name: str, root: str) -> Dataset:
    """Each rebuilt data set is built once per process (matching takes seconds), and once per
    change of its inputs across processes (the disk cache of `build_cache`)."""
    spec = dataset_spec(name)
    return build_cache.cached(name, Path(root), lambda: BUILDS[spec.format](spec, Path(root)))


for _format in BUILDS:
    BUILDERS[_format] = lambda spec, root: cached_build(spec.name, str(root))
