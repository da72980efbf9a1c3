import math

import numpy as np
import pytest

from survey_sim.data.validation import RowError, option_text, to_distribution


def test_fraction_exact_is_not_renormalised():
    dist, renormalised = to_distribution([0.25, 0.75], "fraction")
    assert dist.tolist() == [0.25, 0.75] and not renormalised


def test_percent_with_rounding_is_renormalised_and_counted():
    dist, renormalised = to_distribution([33.3, 33.3, 33.3], "percent")
    assert renormalised
    assert math.isclose(dist.sum(), 1.0) and np.allclose(dist, 1 / 3)


def test_counts_are_normalised():
    dist, _ = to_distribution([3, 1], "counts")
    assert dist.tolist() == [0.75, 0.25]


@pytest.mark.parametrize(
    "values, scale, fragment",
    [
        ([], "fraction", "is empty"),
        ([0.5, -0.1, 0.6], "fraction", "negative"),
        ([0.0, 0.0], "fraction", "all shares are zero"),
        ([0.5, float("nan")], "fraction", "not a finite number"),
        ([0.5, "0.5"], "fraction", "not a finite number"),
        ([0.5, None], "fraction", "not a finite number"),
        ([60, 60], "percent", "more than 2% away from 100"),
        ([0.5, 0.2], "fraction", "more than 2% away from 1"),
        ([1 / 27] * 27, "fraction", "at most 26"),
    ],
)
def test_bad_shares_name_the_problem(values, scale, fragment):
    with pytest.raises(RowError, match=fragment) as info:
        to_distribution(values, scale, field="options_dist")
    assert info.value.field == "options_dist"


def test_option_text_turns_scale_points_into_text():
    assert option_text(2.0) == "2" and option_text(" Yes ") == "Yes"
    with pytest.raises(RowError, match="options"):
        option_text("  ")
