"""Data sets rebuilt from several files: a clean WVS wave 7 and a merged Pew.

The paper's own C1-Q1 training file has no option texts and lists its shares in a scrambled
order (see README, "Data"), so the WVS data set is rebuilt from sources whose order can be
checked:

- `sft_wvs_valid.json` (C1-Q2, ids known, order checked against the codebook), and
- the WVS/EVS rows of the two GlobalOpinionQA copies (`globalopinionqa-subset/eval.json`
  and the paper's `global_pew_test.json`), each question given a WVS number by
  `wvs.Matcher`; questions it cannot match surely stay out, listed in the load report.

Only substantive answers are kept, in WVS code order (code 0 answers such as "Don't
belong" first), renormalised; the dropped share ("Don't know", "No answer", ...) is kept
in `SurveyItem.dropped_mass`. The Pew data set merges the Pew rows of both copies, drops
"DK/Refused" the same way, and keeps volunteered answers ("Neither (VOL)").
Where both copies hold a (question, country), the paper's file wins and disagreements
are counted in the report.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import build_cache
from .loaders import BUILDERS, load_file
from .manifest import DatasetSpec, dataset_spec
from .schema import Dataset, LoadReport, SurveyItem
from .wvs import Matcher, is_non_substantive, is_wvs_row, load_codebook, normalise, option_text

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
            key = (item.question, item.iso3 or item.group)
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
    valid_spec = dataset_spec("wvs_valid")
    valid = load_file(root / valid_spec.path, valid_spec)
    raw, report = raw_items(root, ["pew_raw", "goqa_raw"])
    matcher = Matcher(load_codebook(root / "wvs7-codebook"))
    matches: dict[tuple, object] = {}
    items, unmatched = [], {}
    for item in raw:
        if not is_wvs_row(item.options):
            continue
        match = matches.get((item.question, item.options))
        if match is None:
            match = matches[(item.question, item.options)] = matcher.match(item.question, list(item.options))
        if match.number is None:
            unmatched[item.question] = match.reason
            continue
        clean = keep_answers(item, wvs_answer_order(item, match.codes))
        if clean is None:
            report.dropped.append(f"Q{match.number} {item.group}: no substantive answers")
            continue
        items.append(replace(clean, survey="wvs", question_id=f"Q{match.number}"))
    report.warnings += [f"unmatched, kept out: {q[:90]!r}: {why}" for q, why in sorted(unmatched.items())]
    names = canonical_groups([*valid, *items])
    merged = {(it.question_id, it.iso3 or it.group): it for it in valid}
    disagree = 0
    for item in items:
        key = (item.question_id, item.iso3 or item.group)
        if key in merged:  # the checked C1-Q2 file wins
            other = merged[key]
            disagree += other.n_options != item.n_options or not np.allclose(other.distribution, item.distribution, atol=0.01)
            continue
        merged[key] = replace(item, group=names.get(item.iso3, item.group))
    report.warnings.append(f"{disagree} rows also in sft_wvs_valid.json differ from it by over 1 point; kept the valid file's")
    report.rows_kept = len(merged)
    return Dataset(spec.name, sorted(merged.values(), key=lambda it: (int(it.question_id[1:]), it.group)),
                   [valid.reports[0], report])


def build_pew(spec: DatasetSpec, root: Path) -> Dataset:
    raw, report = raw_items(root, ["pew_raw", "goqa_raw"])
    items = []
    for item in raw:
        if is_wvs_row(item.options):
            continue
        keep = [i for i, o in enumerate(item.options) if normalise(option_text(o)) not in PEW_NON_SUBSTANTIVE]
        clean = keep_answers(item, keep)
        if clean is None or clean.n_options < 2:
            report.dropped.append(f"{item.group} on {item.question[:60]!r}: fewer than 2 substantive answers")
            continue
        items.append(replace(clean, survey="pew", question_id=None, source=item.source))
    report.rows_kept = len(items)
    return Dataset(spec.name, items, [report])


def build_wvs_zh(spec: DatasetSpec, root: Path) -> Dataset:
    """The rebuilt WVS in Chinese: C1-Q2 from `sft_wvs_zh_valid.json`, other rows where
    `WV7_Chinese.jsonl` has the question with as many answers as the English row."""
    zh_spec = dataset_spec("wvs_valid_zh")
    valid_zh = load_file(root / zh_spec.path, zh_spec)
    have = {(it.question_id, it.iso3 or it.group) for it in valid_zh}
    codebook = load_codebook(root / "wvs7-codebook")
    report = LoadReport(source="wvs rows with WV7_Chinese.jsonl texts")
    items = []
    for item in cached_build("wvs", str(root)):
        report.rows_read += 1
        if (item.question_id, item.iso3 or item.group) in have:
            continue
        question = codebook.get(int(item.question_id[1:]))
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
