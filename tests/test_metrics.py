import math

import numpy as np
import pytest

from survey_sim.metrics import (
    METRICS, Metric, diversity, emd_paper, get_metric, majority_match, one_minus_jsd,
    one_minus_jsd_paper, ordinal_emd, register_metric, score_pairs,
)

ALL = [one_minus_jsd, one_minus_jsd_paper, ordinal_emd, emd_paper, majority_match]


# --- hand-computed values -------------------------------------------------------------

def test_opposite_one_hots_k2():
    p, q = [1.0, 0.0], [0.0, 1.0]
    assert one_minus_jsd(p, q) == pytest.approx(0.0, abs=1e-12)       # JSD_2 = 1, distance 1
    assert one_minus_jsd_paper(p, q) == pytest.approx(1 - math.sqrt(math.log(2)))
    assert ordinal_emd(p, q) == pytest.approx(1.0)
    assert emd_paper(p, q) == pytest.approx(0.0)                      # same values {0, 1}
    assert majority_match(p, q) == 0.0


def test_half_half_vs_one_hot():
    p, q = [0.5, 0.5], [1.0, 0.0]
    # m = [0.75, 0.25]; KL2(p||m) = 0.5*log2(0.5/0.75) + 0.5*log2(0.5/0.25) = 1 - 0.5*log2(3)
    # KL2(q||m) = log2(1/0.75) = 2 - log2(3); JSD_2 = mean of the two = 1.5 - 0.75*log2(3)
    jsd2 = 1.5 - 0.75 * math.log2(3)
    assert one_minus_jsd(p, q) == pytest.approx(1 - math.sqrt(jsd2))
    assert one_minus_jsd_paper(p, q) == pytest.approx(1 - math.sqrt(jsd2 * math.log(2)))
    assert ordinal_emd(p, q) == pytest.approx(0.5)                    # half the mass, one step
    # samples {0.5, 0.5} vs {0, 1}: sorted pairs (0.5, 0), (0.5, 1) -> mean |diff| = 0.5
    assert emd_paper(p, q) == pytest.approx(0.5)
    assert majority_match(p, q) == 1.0                                # tie in p -> index 0


def test_ordinal_emd_three_options():
    p, q = [0.2, 0.3, 0.5], [0.5, 0.3, 0.2]
    # CDFs .2 .5 1 and .5 .8 1 -> |diffs| .3 .3 0 -> 0.6 / (k-1 = 2)
    assert ordinal_emd(p, q) == pytest.approx(0.3)
    assert majority_match(p, q) == 0.0


@pytest.mark.parametrize("k", [2, 3, 5, 26])
def test_identical_inputs_score_perfectly(k):
    p = np.random.default_rng(k).dirichlet(np.ones(k))
    assert one_minus_jsd(p, p) == 1.0
    assert one_minus_jsd_paper(p, p) == 1.0
    assert ordinal_emd(p, p) == pytest.approx(0.0, abs=1e-15)
    assert emd_paper(p, p) == 0.0
    assert majority_match(p, p) == 1.0


def test_one_hot_vs_one_hot_far_ends():
    p, q = np.eye(5)[0], np.eye(5)[4]
    assert one_minus_jsd(p, q) == pytest.approx(0.0, abs=1e-12)
    assert ordinal_emd(p, q) == pytest.approx(1.0)


@pytest.mark.parametrize("p, q", [([0.0, 0.0, 1.0], [0.2, 0.3, 0.5]),
                                  ([0.2, 0.3, 0.5], [0.0, 1.0, 0.0]),
                                  ([0.0, 0.5, 0.5], [0.5, 0.5, 0.0])])
def test_zeros_give_finite_values(p, q):
    for fn in ALL:
        with np.errstate(all="raise"):                                 # no divide by zero etc.
            assert math.isfinite(fn(p, q))


def test_near_identical_vectors_never_nan():
    # scipy's jensenshannon returns sqrt(-1e-17) = NaN for about half of these.
    rng = np.random.default_rng(0)
    for _ in range(500):
        p = rng.dirichlet(np.ones(5))
        q = np.abs(p + rng.normal(0, 1e-12, 5))
        q /= q.sum()
        assert one_minus_jsd(p, q) == pytest.approx(1.0)
        assert one_minus_jsd_paper(p, q) == pytest.approx(1.0)


def test_results_lie_in_documented_ranges():
    rng = np.random.default_rng(1)
    for k in (2, 4, 11):
        for _ in range(50):
            p, q = rng.dirichlet(np.ones(k) * 0.3), rng.dirichlet(np.ones(k) * 0.3)
            assert 0.0 <= one_minus_jsd(p, q) <= 1.0
            assert 1 - math.sqrt(math.log(2)) - 1e-12 <= one_minus_jsd_paper(p, q) <= 1.0
            assert 0.0 <= ordinal_emd(p, q) <= 1.0 + 1e-12


# --- properties ------------------------------------------------------------------------

def test_jsd_symmetric():
    p, q = [0.1, 0.6, 0.3], [0.5, 0.25, 0.25]
    assert one_minus_jsd(p, q) == pytest.approx(one_minus_jsd(q, p))
    assert one_minus_jsd_paper(p, q) == pytest.approx(one_minus_jsd_paper(q, p))


def test_paper_distance_is_base2_distance_times_sqrt_ln2():
    rng = np.random.default_rng(2)
    for k in (2, 4, 7):
        p, q = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k))
        assert 1 - one_minus_jsd_paper(p, q) == pytest.approx((1 - one_minus_jsd(p, q)) * math.sqrt(math.log(2)))


def test_ordinal_emd_is_position_aware_but_emd_paper_is_not():
    p = [1.0, 0.0, 0.0, 0.0]
    one_step, three_steps = [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]
    assert ordinal_emd(p, one_step) == pytest.approx(1 / 3)
    assert ordinal_emd(p, three_steps) == pytest.approx(1.0)
    # emd_paper sees only the multiset of values {1, 0, 0, 0}: both "distances" are 0.
    assert emd_paper(p, one_step) == emd_paper(p, three_steps) == 0.0


def test_majority_ties_take_first_index():
    assert majority_match([0.4, 0.4, 0.2], [0.6, 0.2, 0.2]) == 1.0
    assert majority_match([0.4, 0.4, 0.2], [0.2, 0.6, 0.2]) == 0.0


# --- diversity -------------------------------------------------------------------------

REAL = [np.array([0.7, 0.2, 0.1]), np.array([0.2, 0.5, 0.3]), np.array([0.1, 0.1, 0.8])]


def test_diversity_constant_predictions_ratio_zero():
    out = diversity(REAL, [np.array([0.3, 0.4, 0.3])] * 3)
    assert out["pred_spread"] == 0.0 and out["ratio"] == 0.0
    assert out["real_spread"] > 0


def test_diversity_perfect_predictions_ratio_one():
    out = diversity(REAL, [r.copy() for r in REAL])
    assert out["ratio"] == pytest.approx(1.0)
    assert out["pred_spread"] == pytest.approx(out["real_spread"])


def test_diversity_hand_value_and_nan_when_real_constant():
    # Two opposite one-hots: mean [0.5, 0.5]; each is JS distance sqrt(1.5 - 0.75*log2 3) away.
    out = diversity([np.array([1.0, 0.0]), np.array([0.0, 1.0])], [np.array([0.5, 0.5])] * 2)
    assert out["real_spread"] == pytest.approx(math.sqrt(1.5 - 0.75 * math.log2(3)))
    same = diversity([REAL[0]] * 3, REAL)
    assert same["real_spread"] == 0.0 and math.isnan(same["ratio"])


def test_diversity_rejects_mixed_lengths():
    with pytest.raises(ValueError, match="same options"):
        diversity([REAL[0], np.array([0.5, 0.5])], [REAL[0], np.array([0.5, 0.5])])
    with pytest.raises(ValueError):
        diversity(REAL, REAL[:2])


# --- registry --------------------------------------------------------------------------

def test_registry_names_and_directions():
    assert list(METRICS) == ["1-jsd", "1-jsd_paper", "emd", "emd_paper", "majority_acc"]
    assert {n for n, m in METRICS.items() if m.higher_is_better} == {"1-jsd", "1-jsd_paper", "majority_acc"}
    metric = get_metric("emd")
    assert isinstance(metric, Metric) and metric.fn is ordinal_emd and metric.description
    assert metric([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0)


def test_get_metric_unknown_name_lists_choices_and_suggests():
    with pytest.raises(KeyError) as err:
        get_metric("1-jds")
    message = str(err.value)
    assert "available" in message and "majority_acc" in message and "Did you mean '1-jsd'" in message


def test_register_twice_is_an_error():
    with pytest.raises(ValueError, match="registered twice"):
        register_metric("emd", higher_is_better=False, description="dup")(lambda p, q: 0.0)
    assert METRICS["emd"].fn is ordinal_emd


def test_metric_is_frozen():
    with pytest.raises(AttributeError):
        METRICS["emd"].higher_is_better = True


# --- score_pairs -------------------------------------------------------------------

def test_score_pairs_columns_rows_and_mixed_k():
    frame = score_pairs([[1.0, 0.0], [0.2, 0.3, 0.5]], [[0.0, 1.0], [0.5, 0.3, 0.2]])
    assert list(frame.columns) == list(METRICS) and len(frame) == 2
    assert frame.loc[0, "emd"] == pytest.approx(1.0)
    assert frame.loc[1, "emd"] == pytest.approx(0.3)
    subset = score_pairs([[1.0, 0.0]], [[1.0, 0.0]], metrics=["majority_acc", "1-jsd"])
    assert list(subset.columns) == ["majority_acc", "1-jsd"]
    assert score_pairs([], []).empty


@pytest.mark.parametrize("real, pred, match", [
    ([0.5, 0.5], [0.2, 0.3, 0.5], "pair 1: length mismatch"),
    ([0.5, 0.5], [1.2, -0.2], "pair 1: .*negative"),
    ([0.5, 0.5], [np.nan, 1.0], "pair 1: .*NaN"),
    ([0.5, 0.6], [0.5, 0.5], "pair 1: .*sums to 1.1"),
    ([1.0], [1.0], "pair 1: .*at least 2 options"),
])
def test_score_pairs_validation(real, pred, match):
    with pytest.raises(ValueError, match=match):
        score_pairs([[0.5, 0.5], real], [[0.5, 0.5], pred])


def test_score_pairs_tolerates_rounding_but_not_more():
    score_pairs([[0.5, 0.5 + 5e-7]], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="sums to"):
        score_pairs([[0.5, 0.5 + 5e-6]], [[0.5, 0.5]])


def test_score_pairs_count_mismatch_and_unknown_metric():
    with pytest.raises(ValueError, match="2 real"):
        score_pairs([[0.5, 0.5]] * 2, [[0.5, 0.5]])
    with pytest.raises(KeyError):
        score_pairs([[0.5, 0.5]], [[0.5, 0.5]], metrics=["nope"])
