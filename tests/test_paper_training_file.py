"""The paper's C1-Q1 training file (`custom_dataset.json`) is right when read by letter.

Its `output` lists each row's shares in no particular order ("36.93% ... option C, 32.44% ...
option A, ..."), but every share names its letter. Read in the listed order, the numbers look
permuted against GlobalOpinionQA; read by letter (A, B, C ... = WVS codes 1, 2, 3 ...; "X" =
code 0), they agree with GlobalOpinionQA wherever GlobalOpinionQA is right. These tests pin both
readings, so nobody goes back to the listed order, and measure the agreement.
"""
import json
import re

import numpy as np
import pytest

from survey_sim.data import load_dataset, select
from survey_sim.data.countries import to_iso3
from survey_sim.data.cross_source import check_against_paper
from survey_sim.data.rebuild import goqa_wvs_items, paper_training_items
from survey_sim.data.wvs import Matcher, is_wvs_row, load_codebook, substantive_mask
from survey_sim.prompts import PAPER_CLOSING, build_prompt

pytestmark = pytest.mark.integration
SHARE = re.compile(r"([\d.]+)% of people select option ([A-Z])")
MISLABELLED = {"AND", "ARG", "ARM", "AUS"}   # GlobalOpinionQA's shifted labels (test_data_trust.py)


def text_key(question: str, country: str) -> tuple[str, str | None]:
    return re.sub(r"[^a-z0-9]", "", question.lower()), to_iso3(country)


def goqa_wvs_substantive(root) -> dict:
    """(question, country) -> substantive shares of the GlobalOpinionQA WVS rows, renormalised."""
    found = {}
    for item in load_dataset("goqa_raw", root=root):
        if is_wvs_row(item.options):
            shares = item.distribution[np.array(substantive_mask(item.options))]
            found[text_key(item.question, item.group)] = shares / shares.sum()
    return found


def compare(root, read_by_letter: bool) -> dict[str, int]:
    """Rows whose question text and country GlobalOpinionQA also has, with as many answers."""
    reference = goqa_wvs_substantive(root)
    counts = {"same order": 0, "same numbers, other order": 0, "different numbers": 0}
    rows = json.loads((root / "simllm-culturedist" / "custom_dataset.json").read_text())
    for row in rows:
        pairs = SHARE.findall(row["output"])
        if read_by_letter:
            pairs = sorted(pairs, key=lambda p: (p[1] == "X", p[1]))
        shares = np.array([float(s) for s, _ in pairs])
        country = re.search(r"someone from (.+?) answer", row["instruction"]).group(1)
        question = re.sub(r"\s*\nHere are the options:\s*$", "", row["input"]).strip()
        other = reference.get(text_key(question, country))
        if other is None or len(other) != len(shares):
            continue
        shares = shares / shares.sum()
        if np.allclose(other, shares, atol=0.006):
            counts["same order"] += 1
        elif np.allclose(np.sort(other), np.sort(shares), atol=0.006):
            counts["same numbers, other order"] += 1
        else:
            counts["different numbers"] += 1
    return counts


def test_listed_order_looks_permuted(survey_root):
    assert compare(survey_root, read_by_letter=False) == {
        "same order": 48, "same numbers, other order": 219, "different numbers": 204}


def test_letter_order_agrees_where_the_numbers_are_the_same(survey_root):
    # Of the 204 "different numbers", most are GlobalOpinionQA's mislabelled countries and other
    # WVS releases (differences over 0.6 points); the by-letter reading leaves 6 permutations,
    # rows with an "X" answer that GlobalOpinionQA lists in another place.
    assert compare(survey_root, read_by_letter=True) == {
        "same order": 261, "same numbers, other order": 6, "different numbers": 204}


@pytest.fixture(scope="module")
def sources(survey_root):
    codebook = load_codebook(survey_root / "wvs7-codebook")
    matcher = Matcher(codebook)
    goqa, _, twins = goqa_wvs_items(survey_root, matcher, codebook)
    paper, report = paper_training_items(survey_root, matcher, codebook, twins)
    return goqa, paper, report


def test_by_letter_the_file_agrees_with_globalopinionqa(sources):
    """Every (question id, country) pair both hold: 1-JSD (paper-compatible) >= 0.95 counts as agreement."""
    goqa, paper, _ = sources
    checks = check_against_paper(goqa, paper)
    checked, agree = sum(c.checked for c in checks), sum(c.own for c in checks)
    assert (checked, agree) == (970, 839)
    clean = [c for c in checks if c.country not in MISLABELLED]
    assert (sum(c.checked for c in clean), sum(c.own for c in clean)) == (866, 832)   # 96%


def test_every_question_gets_an_id_and_the_codebooks_options(sources):
    _, paper, report = sources
    assert len(paper) == 6796 and report.rows_read == 6841
    assert len({it.question_id for it in paper}) == 149 and len({it.iso3 for it in paper}) == 46
    assert any("137 by text, 9 by position, 3 by twin" in w for w in report.warnings)
    family = next(it for it in paper if it.question_id == "Q1")
    assert family.options == ("Very important", "Rather important", "Not very important", "Not at all important")
    # "option X" is code 0: "Disagree" on the immigration items, first in WVS code order
    jobs = next(it for it in paper if it.question_id == "Q122")
    assert jobs.options == ("Disagree", "Hard to say", "Agree") and jobs.source_letters == "XAB"


def test_loader_reads_by_letter(survey_root):
    dataset = load_dataset("wvs_c1q1_paper", root=survey_root)
    first = dataset.items[3]  # row 3 lists C first: "36.93% ... option C, 32.44% ... "
    raw = json.loads((survey_root / "simllm-culturedist" / "custom_dataset.json").read_text())[3]["output"]
    shares = dict((letter, float(s)) for s, letter in SHARE.findall(raw))
    expected = np.array([shares[k] for k in sorted(shares)])
    assert np.allclose(first.distribution, expected / expected.sum()) and first.source_letters == "ABCD"


def test_paper_literal_prompts_are_the_files_text(survey_root):
    """instruction + input + the paper's closing, character for character, for every kept row."""
    rows = json.loads((survey_root / "simllm-culturedist" / "custom_dataset.json").read_text())
    train = [it for it in select(load_dataset("wvs", root=survey_root), "C1-Q1") if it.source_letters]
    assert len(train) == 6796
    for item in train:
        row = rows[item.row]
        assert build_prompt(item, template="paper_literal") == row["instruction"] + row["input"] + PAPER_CLOSING
