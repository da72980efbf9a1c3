"""The text prior (`baselines/text_prior.py`, `text_network.py`) on small made-up surveys with made-up embeddings."""
import numpy as np
import pytest
import torch

from survey_sim.data import SurveyItem
from survey_sim.methods import METHODS, Context

MUCH, LITTLE = "Very much", "Not at all"


@pytest.fixture(autouse=True)
def fake_embeddings(monkeypatch):
    """A fixed random unit vector per text, so that the option texts, not their order, carry meaning."""
    from survey_sim.baselines import knn, text_network

    monkeypatch.setattr(text_network, "_FITTED", {})  # no fit made with another test's embeddings
    vectors = {}

    def embed(texts):
        for text in texts:
            if text not in vectors:
                v = np.random.default_rng(len(vectors) + 1).normal(size=8)
                vectors[text] = v / np.linalg.norm(v)
        return np.array([vectors[t] for t in texts])

    monkeypatch.setattr(knn, "embed", embed)


def item(question, group, shares_by_text, order=(MUCH, LITTLE)):
    return SurveyItem(survey="wvs", question_id=question, question=f"How much do you like {question}?",
                      options=tuple(order), lang="en", group=group, iso3=None,
                      distribution=np.array([shares_by_text[t] for t in order]))


def survey(groups: dict[str, float], questions=8):
    """Each group puts `share` on MUCH for every question; the options' order alternates."""
    return [item(f"Q{q}", group, {MUCH: share, LITTLE: 1 - share}, order=(MUCH, LITTLE)[::(-1) ** q])
            for q in range(questions) for group, share in groups.items()]


def run(name, train, test, **params):
    return METHODS[name].run(list(test), Context(train=list(train), params=params))


def share_of_much(prediction, test_item):
    return prediction[test_item.options.index(MUCH)]


def test_the_text_prior_follows_what_an_option_says_not_where_it_stands():
    train = survey({"A": 0.8})
    new = [item("new", "A", {MUCH: 0.8, LITTLE: 0.2}, order=(LITTLE, MUCH))]
    [prediction] = run("text_prior", train, new, epochs=150, seeds=1)
    assert share_of_much(prediction, new[0]) > 0.7
    [by_position] = run("train_prior", train, new)
    assert by_position.tolist() == [0.5, 0.5]  # the options' order alternates: position says nothing


def test_each_training_group_keeps_its_own_leaning_and_an_unseen_group_gets_the_shared_part():
    train = survey({"A": 0.9, "B": 0.3})
    new = [item("new", g, {MUCH: 0.5, LITTLE: 0.5}) for g in ("A", "B", "C")]
    a, b, c = (share_of_much(p, it) for p, it in zip(run("text_prior", train, new, epochs=150, seeds=1), new))
    assert a > 0.8 and b < 0.4 and b < c < a


def test_the_fit_is_seeded_and_leaves_the_global_random_stream_alone():
    from survey_sim.baselines import text_network

    train, new = survey({"A": 0.8}), [item("new", "A", {MUCH: 0.5, LITTLE: 0.5})]
    torch.manual_seed(7)
    first = run("text_prior", train, new)
    after = torch.rand(1)
    torch.manual_seed(7)
    assert torch.rand(1) == after  # the fit drew nothing from the caller's stream
    text_network._FITTED.clear()
    np.testing.assert_array_equal(first[0], run("text_prior", train, new)[0])


def test_one_fit_serves_every_call_on_the_same_training_rows(monkeypatch):
    from survey_sim.baselines import text_network

    fits = []
    real_fit = text_network.fit
    monkeypatch.setattr(text_network, "fit", lambda *a, **k: fits.append(1) or real_fit(*a, **k))
    train = survey({"A": 0.8})
    run("text_prior", train, [item("new", "A", {MUCH: 0.5, LITTLE: 0.5})], seeds=2)
    run("text_prior", train, [item("other", "B", {MUCH: 0.5, LITTLE: 0.5})], seeds=2)  # new texts, same fit
    assert len(fits) == 2
    run("text_prior", survey({"A": 0.7}), [item("new", "A", {MUCH: 0.5, LITTLE: 0.5})], seeds=2)
    assert len(fits) == 4  # other answers: a new fit


def test_rows_without_option_texts_get_no_text_prior():
    bare = SurveyItem(survey="wvs", question_id="Q1", question="Q1", options=None, lang="en", group="A",
                      iso3=None, distribution=np.array([0.5, 0.5]))
    assert run("text_prior", survey({"A": 0.8}), [bare]) == [None]
    with pytest.raises(ValueError, match="the --train rows have none"):
        run("text_prior", [bare], survey({"A": 0.8}, questions=1))


def test_learned_prior_takes_other_countries_answers_where_known_and_marks_the_groups_with_a_vector():
    from survey_sim.baselines.text_prior import learned_priors

    train = survey({"A": 0.9, "B": 0.3})
    test = [item("Q0", "C", {MUCH: 0.5, LITTLE: 0.5}), item("new", "A", {MUCH: 0.5, LITTLE: 0.5}),
            item("new", "C", {MUCH: 0.5, LITTLE: 0.5})]
    priors, has_vector = learned_priors(test, Context(train=train))
    np.testing.assert_allclose(priors[0], [0.6, 0.4])  # Q0 was answered by A and B: their mean
    assert has_vector == [False, True, False]  # C was never seen: no vector of its own
    np.testing.assert_allclose(priors[1:], run("text_prior", train, test[1:]))


def test_shift_over_the_learned_prior_moves_only_groups_the_text_prior_knows_nothing_of():
    from survey_sim.baselines.text_prior import learned_priors
    from survey_sim.simulator import DummyBackend, Simulator

    train = survey({"A": 0.9, "B": 0.3})
    test = [item("new", "A", {MUCH: 0.5, LITTLE: 0.5}), item("new", "C", {MUCH: 0.5, LITTLE: 0.5})]
    simulator = Simulator(DummyBackend())
    shifted = METHODS["shift"].run(test, Context(train=train, params={"text_prior": 1},
                                                 load_simulator=lambda: simulator))
    priors, _ = learned_priors(test, Context(train=train))
    np.testing.assert_allclose(shifted[0], priors[0])  # A has its own vector: the prior stands
    from survey_sim.prompts import neutral_item

    group, anyone = simulator.predict([test[1]])[0], simulator.predict([neutral_item(test[1])])[0]
    expected = np.exp(np.log(priors[1]) + np.log(group) - np.log(anyone))
    np.testing.assert_allclose(shifted[1], expected / expected.sum(), rtol=1e-6)
    assert METHODS["shift"].label(Context(params={"text_prior": 1})) == "shift(text_prior=1)"
