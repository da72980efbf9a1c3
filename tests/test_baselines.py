import numpy as np
import pytest

from survey_sim.data import Dataset, SurveyItem
from survey_sim.methods import METHODS, Context


def baseline(name, train, test):
    return METHODS[name].predict(list(test), Context(train=list(train)))


def item(qid, group, dist):
    return SurveyItem(survey="wvs", question_id=qid, question=qid, options=tuple("abcd"[: len(dist)]), lang="en",
                      group=group, iso3=None, distribution=np.asarray(dist, dtype=float))


TRAIN = Dataset("train", [item("Q1", "A", [1, 0]), item("Q1", "B", [0, 1]), item("Q2", "A", [0.5, 0.5]),
                          item("Q3", "A", [0.2, 0.3, 0.5])])
TEST = Dataset("test", [item("Q1", "C", [0.3, 0.7]), item("Q9", "C", [0.9, 0.1]), item("Q9", "D", [0.1, 0.9])])


def test_uniform():
    assert [p.tolist() for p in baseline("uniform", TRAIN, TEST)] == [[0.5, 0.5]] * 3


def test_avg_culture_averages_training_countries_on_the_same_question():
    predictions = baseline("avg_culture", TRAIN, TEST)
    assert predictions[0].tolist() == [0.5, 0.5]
    assert predictions[1] is None and predictions[2] is None  # no training country answered Q9


def test_avg_culture_never_uses_the_country_itself():
    test = Dataset("t", [item("Q1", "A", [1, 0])])
    assert baseline("avg_culture", TRAIN, test)[0].tolist() == [0.0, 1.0]


def test_loo_mean_uses_other_test_countries_only():
    predictions = baseline("loo_mean", TRAIN, TEST)
    assert predictions[0] is None  # the only country with Q1 in the test set
    assert predictions[1].tolist() == [0.1, 0.9] and predictions[2].tolist() == [0.9, 0.1]


def test_train_prior_matches_option_count():
    predictions = baseline("train_prior", TRAIN, TEST)
    assert np.allclose(predictions[1], [0.5, 0.5])  # mean of the three 2-option training rows
    assert baseline("train_prior", TRAIN, Dataset("t", [item("Q8", "C", [0.2, 0.2, 0.2, 0.4])]))[0] is None


def test_population_prior_falls_back_from_other_countries_to_the_prior_to_uniform():
    test = Dataset("t", [*TEST, item("Q8", "C", [0.2, 0.2, 0.2, 0.4])])
    predictions = baseline("population_prior", TRAIN, test)
    assert predictions[0].tolist() == [0.5, 0.5]  # Q1: the mean of training countries A and B
    assert np.allclose(predictions[1], [0.5, 0.5])  # Q9: no training country, the 2-option prior
    assert predictions[3].tolist() == [0.25] * 4  # no 4-option question in training: uniform


def test_unknown_baseline_suggests_a_name():
    with pytest.raises(KeyError, match="Did you mean 'uniform'"):
        METHODS["uniforn"]


def test_knn_takes_the_same_countrys_answer_to_the_nearest_question(monkeypatch):
    from survey_sim.baselines import knn

    fake = {"Q1": [1.0, 0.0], "Q2": [0.0, 1.0], "Q3": [0.6, 0.8], "Q9": [0.1, 0.99]}
    monkeypatch.setattr(knn, "embed", lambda texts: np.array([fake[t] for t in texts]))
    train = Dataset("train", [item("Q1", "C", [1, 0]), item("Q2", "C", [0, 1]), item("Q3", "C", [0.2, 0.3, 0.5]),
                              item("Q2", "A", [0.5, 0.5])])
    predictions = baseline("knn", train, TEST)
    assert predictions[0].tolist() == [0.0, 1.0]  # Q1 itself is excluded; Q2 is the nearest 2-option question
    assert predictions[1].tolist() == [0.0, 1.0]  # Q9 is nearest to Q2
    assert predictions[2] is None  # country D answered nothing in training


@pytest.mark.integration
def test_real_sentence_embeddings_are_unit_length_and_meaningful():
    from survey_sim.baselines.knn import embed

    vectors = embed(["How important is family in your life?", "How important are friends in your life?",
                     "Do you approve of the president's handling of the economy?"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_baselines_are_methods_that_run_no_model():
    from survey_sim.methods import baseline_names

    assert baseline_names() == ["uniform", "avg_culture", "loo_mean", "train_prior", "country_prior", "population_prior", "knn",
                              "text_prior", "learned_prior"]
    assert all(METHODS[name].adapter == "never" for name in baseline_names())
    with pytest.raises(ValueError, match="learns from training data"):
        METHODS["avg_culture"].check(Context())
    with pytest.raises(ValueError, match="runs no model; drop --adapter"):
        METHODS["uniform"].check(Context(adapter="mine"))


def test_prior_shift_moves_the_prior_by_the_models_centred_departures():
    from survey_sim.simulator import DummyBackend, Simulator

    context = Context(train=list(TRAIN), load_simulator=lambda: Simulator(DummyBackend()))
    method = METHODS["prior_shift"]
    assert method.params == {"s": 1.0} and method.uses == "model+train"
    at_zero = method.run(list(TEST), Context(train=list(TRAIN), params={"s": 0.0},
                                             load_simulator=context.load_simulator))
    for shifted, prior in zip(at_zero, baseline("population_prior", TRAIN, TEST), strict=True):
        np.testing.assert_allclose(shifted, prior)  # s = 0: the prior itself
    model = context.simulator.predict(list(TEST))
    shifted = method.run(list(TEST), context)
    # Q9 is answered by C and D: each moves from the prior by its log-ratio to their geometric mean
    log_mean = (np.log(model[1]) + np.log(model[2])) / 2
    expected = np.exp(np.log(0.5) + np.log(model[1]) - log_mean)
    np.testing.assert_allclose(shifted[1], expected / expected.sum())
    np.testing.assert_allclose(shifted[0], [0.5, 0.5])  # Q1 has one country: nothing to centre against
    assert method.label(Context(params={"s": 0.5})) == "prior_shift(s=0.5)"
    with pytest.raises(ValueError, match="has no parameter t; its parameters: s"):
        method.check(Context(train=list(TRAIN), params={"t": 1.0}))


def test_shift_moves_the_prior_by_the_departure_from_a_neutral_prompt_scored_once_per_question():
    from survey_sim.simulator import DummyBackend, Simulator

    class Counting(DummyBackend):
        def distributions(self, prompts, n_options, batch_size=16, progress=None):
            self.prompts = [*getattr(self, "prompts", []), *prompts]
            return super().distributions(prompts, n_options, batch_size, progress)

    backend = Counting()
    simulator = Simulator(backend)
    context = Context(train=list(TRAIN), params={"s": 0.5}, load_simulator=lambda: simulator)
    shifted = METHODS["shift"].run(list(TEST), context)
    neutral = [p for p in backend.prompts if p.startswith("How would someone answer the following question")]
    assert len(neutral) == 2 and len(backend.prompts) == 5  # Q1 and Q9 once each, then the three rows
    from survey_sim.prompts import neutral_item

    for row, test_item in enumerate(TEST):
        group, anyone = simulator.predict([test_item])[0], simulator.predict([neutral_item(test_item)])[0]
        prior = baseline("population_prior", TRAIN, [test_item])[0]
        expected = np.exp(np.log(prior) + 0.5 * (np.log(group) - np.log(anyone)))
        np.testing.assert_allclose(shifted[row], expected / expected.sum())


class FavouriteBackend:
    """Puts 90% on one letter, or on the option with one text: letter bias, or content."""

    identity, tokenizer = None, None

    def __init__(self, letter=None, text=None):
        self.letter, self.text = letter, text

    def distributions(self, prompts, n_options, batch_size=16, progress=None):
        import re

        results = []
        for prompt, k in zip(prompts, n_options, strict=True):
            listed = re.findall(r"\(([A-Z])\)(.*?)(?=, \([A-Z]\)| If had)", prompt)  # the paper's one-line options
            letters = {text: letter for letter, text in listed}
            favourite = self.letter or letters[self.text]
            shares = np.full(k, 0.1 / (k - 1))
            shares[ord(favourite) - ord("A")] = 0.9
            results.append(shares)
        return results


def test_permuted_scoring_spreads_a_letters_pull_and_keeps_what_the_options_say():
    from survey_sim.simulator import Simulator
    from tiny import make_item

    items = [make_item(k=4), make_item(group="Chad", k=3)]

    def run(backend, k):
        return METHODS["permuted"].run(items, Context(load_simulator=lambda: Simulator(backend), params={"k": k}))

    for shares, item in zip(run(FavouriteBackend(letter="A"), 4), items, strict=True):
        np.testing.assert_allclose(shares, np.full(item.n_options, 1 / item.n_options))  # every option was (A) once
    np.testing.assert_allclose(run(FavouriteBackend(letter="A"), 1)[0], [0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3])
    content = run(FavouriteBackend(text="option 2"), 4)  # mapped back to the original order
    np.testing.assert_allclose(content[0], [0.1 / 3, 0.1 / 3, 0.9, 0.1 / 3])
    np.testing.assert_allclose(content[1], [0.05, 0.05, 0.9])


def test_letter_bias_puts_real_and_predicted_shares_side_by_side():
    from survey_sim.evaluation import Target, letter_bias, run

    results = run("uniform", [Target("t", "all", list(TRAIN))], Context(train=list(TRAIN)))
    table = letter_bias(results, 2)
    assert list(table.index) == ["real", "uniform"] and list(table.columns) == ["A", "B"]
    np.testing.assert_allclose(table.loc["real"], [0.5, 0.5])  # Q1 of A and B, Q2 of A
    np.testing.assert_allclose(table.loc["uniform"], [0.5, 0.5])
    assert letter_bias(results, 7).empty


def test_calibration_temperature_flattens_or_sharpens_the_models_shares():
    from survey_sim.simulator import Simulator
    from tiny import make_item

    items = [make_item(k=4)]

    def run(T):
        context = Context(load_simulator=lambda: Simulator(FavouriteBackend(letter="A")), params={"T": T})
        return METHODS["calibrated"].run(items, context)[0]

    np.testing.assert_allclose(run(1.0), [0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3])
    flat, sharp = run(1e6), run(0.5)
    np.testing.assert_allclose(flat, [0.25] * 4, atol=1e-5)
    np.testing.assert_allclose(sharp, np.array([0.81, 1 / 900, 1 / 900, 1 / 900]) / (0.81 + 3 / 900))
    with pytest.raises(ValueError, match="T must be positive"):
        run(0.0)


def test_an_adapter_predicts_as_it_was_trained_and_a_shift_never_sees_its_own_groups_answer():
    from survey_sim.methods import predict_as_trained, trained_method
    from survey_sim.simulator import DummyBackend, Simulator

    shift_adapter = {"config": {"objective": "shift", "shift_scale": 0.5}}
    assert trained_method(shift_adapter) == ("shift", {"s": 0.5})
    assert trained_method({"config": {"objective": "direct"}}) == trained_method({}) == ("adapter", {})
    simulator = Simulator(DummyBackend())
    rows = list(TEST)
    np.testing.assert_allclose(predict_as_trained(simulator, None, rows), simulator.predict(rows))
    as_trained = predict_as_trained(simulator, shift_adapter, rows, known=rows)
    # C's prior on Q9 is D's real answer, and D's is C's: never the row's own
    context = Context(train=[rows[2]], params={"s": 0.5}, load_simulator=lambda: simulator)
    np.testing.assert_allclose(as_trained[1], METHODS["shift"].run([rows[1]], context)[0])
    changed_own = [rows[0], rows[1], item("Q9", "D", [0.99, 0.01])]
    np.testing.assert_allclose(predict_as_trained(simulator, shift_adapter, changed_own, known=changed_own)[2],
                               as_trained[2])


def test_country_prior_keeps_a_countrys_leaning_shrunk_towards_the_training_prior():
    train = [item("Q1", "A", [1, 0]), item("Q2", "A", [1, 0]), item("Q1", "B", [0, 1]), item("Q2", "B", [0, 1]),
             item("Q3", "A", [0.2, 0.3, 0.5])]
    test = [item("Q9", "A", [0.9, 0.1]), item("Q9", "B", [0.1, 0.9]), item("Q9", "C", [0.5, 0.5]),
            item("Q8", "B", [0.2, 0.3, 0.5]), item("Q7", "A", [0.25] * 4)]
    predictions = METHODS["country_prior"].run(test, Context(train=train, params={"w": 2.0}))
    np.testing.assert_allclose(predictions[0], [0.75, 0.25])  # (2 x [1, 0] + 2 x the prior [0.5, 0.5]) / 4
    np.testing.assert_allclose(predictions[1], [0.25, 0.75])
    np.testing.assert_allclose(predictions[2], [0.5, 0.5])  # C answered nothing: the training prior
    np.testing.assert_allclose(predictions[3], [0.2, 0.3, 0.5])  # B has no 3-option row: the prior (A's)
    assert predictions[4] is None  # no 4-option question in training at all
