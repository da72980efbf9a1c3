from dataclasses import replace

import numpy as np
import pytest
import tiny

from survey_sim.calibration import fit_affine, softmax
from survey_sim.methods import METHODS, Context


def make_item(question_id, group, distribution):
    return replace(tiny.make_item(group, k=len(distribution), distribution=distribution), question_id=question_id)


def biased_rows(rng, n, k, scale, bias):
    """Model shares that are a known affine distortion of the real ones: log p = (log r - bias) / scale."""
    real = rng.dirichlet(np.ones(k), size=n)
    predicted = [softmax((np.log(r) - bias) / scale) for r in real]
    return predicted, list(real)


def test_fit_affine_recovers_a_known_scale_and_letter_bias():
    rng = np.random.default_rng(0)
    bias3, bias2 = np.array([1.0, 0.0, -0.5]), np.array([0.7, -0.7])
    p3, r3 = biased_rows(rng, 300, 3, 0.5, bias3)
    p2, r2 = biased_rows(rng, 300, 2, 0.5, bias2)
    fitted = fit_affine(p3 + p2, r3 + r2, l2=0)
    assert fitted.scale == pytest.approx(0.5, abs=1e-3)
    # offsets are defined up to a constant per option count
    assert fitted.offsets[3] - fitted.offsets[3].mean() == pytest.approx(bias3 - bias3.mean(), abs=1e-3)
    assert fitted.offsets[2] - fitted.offsets[2].mean() == pytest.approx(bias2 - bias2.mean(), abs=1e-3)
    assert fitted.apply(p3[0]) == pytest.approx(r3[0], abs=1e-3)
    unseen = softmax(np.array([0.2, 0.1, 0.0, -0.3]))
    assert fitted.apply(unseen) == pytest.approx(softmax(0.5 * np.log(unseen)))  # no offsets for 4 options


def test_fit_affine_on_an_uninformative_model_learns_the_prior():
    rng = np.random.default_rng(1)
    real = list(rng.dirichlet([8.0, 2.0, 1.0], size=500))
    noise = [rng.dirichlet(np.ones(3)) for _ in real]
    fitted = fit_affine(noise, real, l2=0)
    assert abs(fitted.scale) < 0.1
    assert np.argmax(fitted.apply(noise[0])) == 0


def test_fit_affine_refuses_mismatched_rows():
    with pytest.raises(ValueError, match="one real distribution per prediction"):
        fit_affine([np.ones(2) / 2], [])


class Biased:
    """A stand-in simulator whose shares put extra weight on (A) whatever the truth."""
    def predict(self, items, batch_size=16, progress=None):
        return [softmax(np.log(it.distribution) + np.eye(it.n_options)[0] * 2) for it in items]


def test_the_affine_method_removes_a_letter_bias_learnt_from_other_questions():
    rng = np.random.default_rng(2)
    train = [make_item(f"T{i}", "ARG", rng.dirichlet(np.ones(3))) for i in range(50)]
    test = [make_item(f"Q{i}", "BRA", rng.dirichlet(np.ones(3))) for i in range(5)]
    context = Context(train=train, load_simulator=Biased)
    predicted = METHODS["affine"].run(test, context)
    for item, shares in zip(test, predicted, strict=True):
        assert shares == pytest.approx(item.distribution, abs=0.02)


def test_the_affine_method_refuses_to_fit_on_the_rows_it_scores():
    rows = [make_item("Q1", "ARG", np.array([0.5, 0.3, 0.2]))]
    with pytest.raises(ValueError, match="shares 1 rows with the rows scored"):
        METHODS["affine"].run(rows, Context(train=rows, load_simulator=Biased))
