"""The real files load with the counts documented in ../shared/README.md."""
import numpy as np
import pytest

from survey_sim.data import load_dataset

pytestmark = pytest.mark.integration

# name: (rows read, rows kept, distinct groups, distinct questions)
EXPECTED = {
    "wvs_valid": (1586, 1586, 46, 35),
    "wvs_valid_zh": (1586, 1586, 46, 35),
    "pew_raw": (3991, 3982, 131, 1239),  # 1,240 ids in the file; one has only all-zero rows
    "goqa_raw": (4633, 4624, 130, 1300),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_match_the_documented_table(survey_root, name):
    dataset = load_dataset(name, root=survey_root)
    read, kept, groups, questions = EXPECTED[name]
    (report,) = dataset.reports
    assert (report.rows_read, report.rows_kept) == (read, kept)
    assert len(dataset.groups()) == groups
    assert len({it.key for it in dataset}) == questions or name == "goqa_raw"
    for item in dataset:
        assert np.isclose(item.distribution.sum(), 1.0) and (item.distribution >= 0).all()


def test_pew_drops_exactly_the_rows_that_are_not_distributions(survey_root):
    (report,) = load_dataset("pew_raw", root=survey_root).reports
    assert sum("all shares are zero" in reason for reason in report.dropped) == 8
    assert sum("sums to 1.072" in reason for reason in report.dropped) == 1


def test_valid_file_is_c1_q2(survey_root):
    dataset = load_dataset("wvs_valid", root=survey_root)
    numbers = {int(it.question_id[1:]) for it in dataset}  # the valid file has no variant ids
    assert min(numbers) == 164 and max(numbers) == 198
    assert all(it.iso3 for it in dataset)


def test_raw_training_file_loads_as_published(survey_root):
    dataset = load_dataset("wvs_c1q1_paper", root=survey_root)
    (report,) = dataset.reports
    assert (report.rows_read, report.rows_kept) == (6841, 6796) and len(dataset.groups()) == 46
    assert sum("question text is empty" in reason for reason in report.dropped) == 45  # the empty question
    assert all(it.options is None for it in dataset)


# Rows per split of the rebuilt WVS data set (the paper's counts in brackets): see README.
WVS_SPLITS = {"C1-Q1": 6892, "C1-Q2": 1586, "C1-Q3": 343, "C2-Q1": 191, "C2-Q3": 58, "C3-Q1": 257, "C3-Q3": 68}


def test_rebuilt_wvs_splits(survey_root):
    from survey_sim.data import select

    wvs = load_dataset("wvs", root=survey_root)
    assert {split: len(select(wvs, split)) for split in WVS_SPLITS} == WVS_SPLITS
    assert all(it.question_id.startswith("Q") and it.options for it in wvs)
    assert len({(it.question_id, it.iso3 or it.group) for it in wvs}) == len(wvs)  # one row per question x country
    assert {it.group for it in wvs if it.iso3 == "MAC"} == {"Macao SAR"}  # one name per country
    # C1-Q2 comes from the checked valid file, untouched
    valid = {(it.question_id, it.group): it.distribution for it in load_dataset("wvs_valid", root=survey_root)}
    assert all(np.array_equal(valid[(it.question_id, it.group)], it.distribution) for it in select(wvs, "C1-Q2"))


def test_rebuilt_wvs_keeps_substantive_answers_in_code_order(survey_root):
    wvs = load_dataset("wvs", root=survey_root)
    for item in wvs:
        assert not any(o.lower().startswith(("don't know", "no answer", "other missing", "missing")) for o in item.options)
        assert 0 <= item.dropped_mass < 1
    q1 = [it for it in wvs if it.question_id == "Q1"]  # importance of family, codes 1-4
    assert len(q1) == 58   # 46 from the paper's training file, 12 other countries from GlobalOpinionQA
    assert all(it.options == ("Very important", "Rather important", "Not very important", "Not at all important") for it in q1)


def test_merged_pew(survey_root):
    pew = load_dataset("pew", root=survey_root)
    assert len(pew) == 5192
    assert all(it.survey == "pew" and "DK/Refused" not in it.options for it in pew)
    assert len({(it.question, it.group) for it in pew}) == len(pew)


def test_chinese_wvs(survey_root):
    zh = load_dataset("wvs_zh", root=survey_root)
    assert len(zh) == 6529 and all(it.lang == "zh" for it in zh)
    english = {(it.question_id, it.group): it for it in load_dataset("wvs", root=survey_root)}
    for item in zh:  # the same shares as the English row, only the texts differ
        assert np.array_equal(item.distribution, english[(item.question_id, item.group)].distribution)
    family = next(it for it in zh if it.question_id == "Q1")
    assert family.options == ("很重要", "重要", "不太重要", "很不重要")
