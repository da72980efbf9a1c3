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


def fold_store(gain_by_fold: dict[int, float]) -> pd.DataFrame:
    """Per fold: its own adapter "adapter:m-foldF" and the baseline "b", on the same 6 questions."""
    parts = []
    for fold, gain in gain_by_fold.items():
        part = store({f"adapter:m-fold{fold}": [[0.7 + gain]] * 6, "b": [[0.7]] * 6})
        parts.append(part.assign(split=f"C1-Q1:fold{fold}", group=f"F{fold}",
                                 adapter=part["method"].str.removeprefix("adapter:").where(part["method"] != "b", ""),
                                 method=part["method"].where(part["method"] == "b", "adapter")))
    return pd.concat(parts, ignore_index=True)


def test_folds_pool_with_their_own_adapters_and_resample_questions_across_them():
    results = fold_store({0: 0.1, 1: 0.0, 2: -0.04})
    tests = ["wvs:C1-Q1:fold0", "wvs:C1-Q1:fold1", "wvs:C1-Q1:fold2"]
    pooled = compare(results, "adapter:m-fold{fold}", "b", tests)
    assert pooled.rows == 18 and pooled.questions == 6 and pooled.difference == pytest.approx(0.02)
    # a question keeps its rows from every fold, so every draw has the same per-question gain
    assert pooled.low == pytest.approx(0.02) == pooled.high and pooled.test == " + ".join(tests)
    assert compare(results, "adapter:m-fold{fold}", "b", "wvs:C1-Q1:fold2").difference == pytest.approx(-0.04)


def test_a_fold_placeholder_needs_fold_tests():
    with pytest.raises(KeyError, match="is not a fold"):
        compare(fold_store({0: 0.1}), "adapter:m-fold{fold}", "b", "wvs:C1-Q2")


def test_the_compare_command_pools_folds_on_request(tmp_path, capsys):
    from survey_sim.cli import main

    path = tmp_path / "store.parquet"
    fold_store({0: 0.1, 1: 0.0}).to_parquet(path)
    tests = ["--test", "wvs:C1-Q1:fold0", "--test", "wvs:C1-Q1:fold1"]
    assert main(["compare", "adapter:m-fold{fold}", "b", *tests, "--store", str(path)]) == 0
    assert capsys.readouterr().out.count("over 6 rows") == 2   # one line per fold
    assert main(["compare", "adapter:m-fold{fold}", "b", *tests, "--store", str(path), "--pool"]) == 0
    out = capsys.readouterr().out
    assert "fold0 + wvs:C1-Q1:fold1" in out and "over 12 rows, 6 questions" in out and "+0.050" in out


def test_the_leaderboard_marks_a_best_mean_only_where_it_beats_the_runner_up_beyond_the_noise():
    from small_results import small_store

    from survey_sim.bootstrap import clear_winners, mean_intervals
    from survey_sim.leaderboard import leaderboard_rows, wide

    store = small_store()
    intervals = mean_intervals(store, "1-jsd_paper").set_index(["method", "test"])
    low, high = intervals.loc[("adapter:mine", "wvs:C1-Q2")]
    assert low == high == 1.0  # perfect on every question: no spread
    low, high = intervals.loc[("uniform", "wvs:C1-Q2")]
    assert low < high  # two questions of different difficulty
    means = wide(leaderboard_rows(store, "1-jsd_paper"), "mean")
    marked = clear_winners(store, means, "1-jsd_paper")
    # C1-Q2: the perfect adapter leads zero-shot, but on their one common row they tie: no mark
    assert not marked["wvs:C1-Q2"].any()
    assert not marked["wvs:C1-Q3"].any()  # one method alone: nothing to beat


def test_a_best_mean_that_beats_the_runner_up_on_every_question_is_marked():
    from survey_sim.bootstrap import clear_winners
    from survey_sim.data import SurveyItem
    from survey_sim.evaluation import tidy_scores
    from survey_sim.leaderboard import leaderboard_rows, wide

    test = [SurveyItem(survey="wvs", question_id=f"Q{q}", question=f"Q{q}?", options=("Yes", "No"), lang="en",
                       group=group, iso3=None, distribution=np.array([0.7 + q / 100, 0.3 - q / 100]))
            for q in range(12) for group in ("France", "Peru")]
    runs = {"close": [it.distribution * 0.9 + 0.05 for it in test], "uniform": [np.array([0.5, 0.5])] * len(test),
            "far": [np.array([0.1, 0.9])] * len(test)}
    store = pd.concat([tidy_scores(test, p, method=m, dataset="wvs", split="C1-Q2") for m, p in runs.items()])
    for metric in ("1-jsd_paper", "emd"):  # higher is better, then lower
        marked = clear_winners(store, wide(leaderboard_rows(store, metric), "mean"), metric)
        assert marked["wvs:C1-Q2"].to_dict() == {"close": True, "uniform": False, "far": False}, metric


def test_intervals_and_comparisons_work_on_a_store_that_keeps_question_ids_only():
    from small_results import small_store

    from survey_sim.bootstrap import compare, mean_intervals

    store = small_store().drop(columns="question")  # as results/reference.parquet keeps it
    assert len(mean_intervals(store, "1-jsd_paper")) == 4
    assert compare(store, "adapter:mine", "uniform", "wvs:C1-Q2").rows == 4
