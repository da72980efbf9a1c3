"""The real files load with the counts documented in ../shared/README.md."""
import numpy as np
import pytest

from survey_sim.data import load_dataset

pytestmark = pytest.mark.integration

# name: (rows read, rows kept, distinct groups, distinct questions)
EXPECTED = {
    "wvs_valid": (1586, 1586, 46, 35),
    "wvs_valid_zh": (1586, 1586, 46, 35),
    "pew": (3991, 3982, 131, 1239),  # 1,240 ids in the file; one has only all-zero rows
    "goqa": (4633, 4624, 130, 1300),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_match_the_documented_table(survey_root, name):
    dataset = load_dataset(name, root=survey_root)
    read, kept, groups, questions = EXPECTED[name]
    (report,) = dataset.reports
    assert (report.rows_read, report.rows_kept) == (read, kept)
    assert len(dataset.groups()) == groups
    assert len({it.key for it in dataset}) == questions or name == "goqa"
    for item in dataset:
        assert np.isclose(item.distribution.sum(), 1.0) and (item.distribution >= 0).all()


def test_pew_drops_exactly_the_rows_that_are_not_distributions(survey_root):
    (report,) = load_dataset("pew", root=survey_root).reports
    assert sum("all shares are zero" in reason for reason in report.dropped) == 8
    assert sum("sums to 1.072" in reason for reason in report.dropped) == 1


def test_valid_file_is_c1_q2(survey_root):
    dataset = load_dataset("wvs_valid", root=survey_root)
    numbers = {int(it.question_id[1:]) for it in dataset}
    assert min(numbers) == 164 and max(numbers) == 198
    assert all(it.iso3 for it in dataset)


def test_scrambled_file_needs_the_flag(survey_root):
    with pytest.raises(ValueError, match="scrambled"):
        load_dataset("wvs_c1q1_scrambled", root=survey_root)
    dataset = load_dataset("wvs_c1q1_scrambled", root=survey_root, allow_scrambled=True)
    (report,) = dataset.reports
    assert report.rows_read == 6841 and len(dataset.groups()) == 46
    assert all(it.options is None for it in dataset)
