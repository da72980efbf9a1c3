"""The paired bootstrap over questions on small hand-made result stores."""
import numpy as np
import pandas as pd
import pytest

from survey_sim.bootstrap import compare, paired_rows


def store(values_by_method: dict[str, list[list[float]]], metric="1-jsd_paper") -> pd.DataFrame:
    """values_by_method[m][q][g]: the score of method m on question q for group g."""
    rows = []
    for method, questions in values_by_method.items():
        for q, groups in enumerate(questions):
            for g, value in enumerate(groups):
                rows.append({"method": method, "model": "", "adapter": "", "dataset": "wvs", "split": "C1-Q2",
                             "question_id": f"Q{q}", "question": f"question {q}", "group": f"G{g}",
                             "metric": metric, "value": value})
    return pd.DataFrame(rows)


def test_a_consistent_gain_is_a_win_and_noise_is_not():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.6, 0.8, size=(30, 5))
    better = store({"a": (base + 0.05).tolist(), "b": base.tolist()})
    result = compare(better, "a", "b", "wvs:C1-Q2")
    assert result.difference == pytest.approx(0.05) and result.low > 0 and result.verdict == "A better"
    noisy = store({"a": (base + rng.normal(0, 0.05, size=base.shape)).tolist(), "b": base.tolist()})
    assert compare(noisy, "a", "b", "wvs:C1-Q2").verdict == "no difference"


def test_lower_is_better_metrics_flip_the_verdict():
    result = compare(store({"a": [[0.1, 0.1]] * 8, "b": [[0.2, 0.2]] * 8}, metric="emd"), "a", "b", "wvs:C1-Q2", "emd")
    assert result.high < 0 and result.verdict == "A better"


def test_skill_is_the_share_of_bs_error_that_a_removes():
    # similarity 0.8 vs 0.6: distances 0.2 vs 0.4, half of B's error gone
    result = compare(store({"a": [[0.8, 0.8]] * 6, "b": [[0.6, 0.6]] * 6}), "a", "b", "wvs:C1-Q2")
    assert result.skill == pytest.approx(50) and result.skill_low == pytest.approx(50) == result.skill_high
    assert "skill of A over B +50.0% [+50.0, +50.0]" in result.line()
    emd = compare(store({"a": [[0.3]] * 6, "b": [[0.2]] * 6}, metric="emd"), "a", "b", "wvs:C1-Q2", "emd")
    assert emd.skill == pytest.approx(-50)  # a larger distance is negative skill


def test_questions_are_resampled_whole():
    # one question carries all the gain: over questions the interval is wide, though over rows it is not
    a = [[1.0] * 20] + [[0.5]] * 9
    b = [[0.5] * 20] + [[0.5]] * 9
    result = compare(store({"a": a, "b": b}), "a", "b", "wvs:C1-Q2")
    assert result.questions == 10 and result.rows == 29
    assert result.low == 0.0 and result.high > 0.3   # resamples without that question have no gain


def test_only_rows_both_methods_scored_count():
    rows = paired_rows(store({"a": [[0.5, 0.6]], "b": [[0.4]]}), "a", "b", "wvs:C1-Q2", "1-jsd_paper")
    assert len(rows) == 1 and rows["value_a"].tolist() == [0.5]


def test_an_unknown_method_names_the_known_ones():
    with pytest.raises(KeyError, match="methods there: a, b"):
        compare(store({"a": [[0.5]], "b": [[0.4]]}), "a", "c", "wvs:C1-Q2")
