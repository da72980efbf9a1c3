"""The cross-source checks on the real files: mislabelled countries quarantined, Pew options whole."""
from collections import defaultdict

import pytest

from survey_sim.data import load_dataset
from survey_sim.data.report import dataset_report

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def wvs(survey_root):
    return load_dataset("wvs", root=survey_root)


@pytest.fixture(scope="module")
def pew(survey_root):
    return load_dataset("pew", root=survey_root)


def test_mislabelled_countries_are_quarantined_with_their_evidence(wvs):
    goqa_report = wvs.reports[-1]
    assert goqa_report.quarantined == ["AND", "ARG", "ARM", "AUS"]
    warnings = "\n".join(goqa_report.warnings)
    assert "QUARANTINED ARG: 4 of 34 rows agree with its own label in the paper's files, 19 with AND's" in warnings
    assert "QUARANTINED AUS: 0 of 31 rows agree with its own label in the paper's files, 29 with ARG's" in warnings
    # their GlobalOpinionQA rows left every split; their rows from the paper's files stay
    for item in wvs:
        if item.iso3 in {"AND", "ARG", "ARM", "AUS"}:
            assert "simllm-culturedist" in item.source, (item.question_id, item.group, item.source)
    assert {it.question_id[1:].isdigit() and int(it.question_id[1:]) > 198 for it in wvs if it.iso3 == "ARG"} == {False}


def test_unchecked_countries_are_checked_for_copies(wvs):
    warnings = "\n".join(wvs.reports[-1].warnings)
    assert "checked against each other for copied distributions (0 pairs share any)" in warnings
    assert "EGY" in warnings and "NGA" in warnings   # C2 countries are named among the unchecked


def test_paper_files_win_over_globalopinionqa(wvs):
    warnings = "\n".join(wvs.reports[-1].warnings)
    assert "866 (question, country) pairs in both custom_dataset.json and GlobalOpinionQA: 234 differ" in warnings
    assert "rows kept by source: 1586 from sft_wvs_valid.json, 6796 from custom_dataset.json, 1606 from GlobalOpinionQA" in warnings


def test_every_wvs_question_has_one_text_and_one_option_list(wvs):
    # Q33 and Q34 also come coded on three answers (codebook Q33_3, Q34_3): separate questions
    texts, options = defaultdict(set), defaultdict(set)
    for item in wvs:
        texts[item.question_id].add(item.question)
        options[item.question_id].add(item.options)
    assert all(len(v) == 1 for v in texts.values()) and all(len(v) == 1 for v in options.values())
    assert len(options["Q33"].pop()) == 5 and len(options["Q33_3"].pop()) == 3


def test_the_report_has_no_scrambled_wording(wvs):
    report = dataset_report(wvs)
    assert "scrambled" not in report.lower()
    assert "149 of 149 questions given a WVS id" in report and "QUARANTINED AND" in report


def test_pew_split_options_are_repaired(pew):
    warnings = "\n".join(pew.reports[0].warnings)
    assert ("157 rows of global_pew_test.json had options split at commas: 137 rejoined as the question's "
            "whole option list, 20 by joining lower-case fragments, 0 dropped") in warnings
    assert "23 repaired rows replaced by eval.json's copy" in warnings
    colombia = next(it for it in pew if it.group == "Colombia" and it.question.startswith(
        "Do you think the government of ____ respects the personal freedoms") and it.question.endswith("c. France"))
    assert colombia.options == ("Yes, respects personal freedoms", "No, does not respect personal freedoms")
    assert colombia.distribution.round(3).tolist() == [0.754, 0.246]   # 0.525, 0.172 and 0.303 DK/Refused (dropped)


def test_every_pew_question_has_one_option_list(pew):
    lists = defaultdict(set)
    for item in pew:
        lists[item.question].add(item.options)
    assert len(lists) == 1291 and all(len(v) == 1 for v in lists.values())
    assert not any(option[:1].islower() and option != "al Qaeda" for v in lists.values() for o in v for option in o)
