"""The trust checks of robustness.py: collapse, [ctrl] agreement, letter bias, order sensitivity,
and the reports the CLI writes and the app reads."""
import numpy as np
import pandas as pd
import pytest

from survey_sim import robustness
from survey_sim.data.schema import SurveyItem
from survey_sim.evaluation import tidy_scores
from survey_sim.methods import Context, Method

RNG = np.random.default_rng(0)
REAL = [RNG.dirichlet(np.ones(4)) for _ in range(12)]  # twelve countries answering one 4-option question


def items_of(distributions, question="Q1", options=("a", "b", "c", "d")):
    return [SurveyItem(survey="wvs", question_id=question, question=f"{question}?", options=options[:len(d)],
                       lang="en", group=f"country {i}", iso3=f"C{i:02d}", distribution=np.asarray(d))
            for i, d in enumerate(distributions)]


def test_the_same_answer_everywhere_is_collapsed_and_said_so():
    check = robustness.of_question(REAL, [np.full(4, 0.25)] * len(REAL))
    assert check.simulated_spread == 0 and check.real_spread > 0.1
    assert check.collapsed and np.isnan(check.rank)
    assert "near-identical across countries" in check.sentence() and "0% of the real variation" in check.sentence()


def test_a_faithful_simulation_keeps_the_real_variation_and_order():
    check = robustness.of_question(REAL, REAL)
    assert check.ratio == pytest.approx(1) and check.rank == pytest.approx(1) and not check.collapsed
    assert "near-identical" not in check.sentence() and "100% of the real variation" in check.sentence()
    reversed_order = robustness.of_question(REAL, REAL[::-1])
    assert reversed_order.ratio == pytest.approx(1) and reversed_order.rank < 0.5  # same spread, wrong countries


def test_small_differences_are_collapsed_against_real_questions_of_that_size():
    nearly_flat = [np.array([0.25 + e, 0.25 - e, 0.25, 0.25]) for e in np.linspace(-0.03, 0.03, 12)]
    reference = robustness.typical_real_spread(items_of(REAL), n_options=4, min_countries=10)
    assert reference == pytest.approx(robustness.of_question(REAL, REAL).real_spread)
    check = robustness.against_reference(nearly_flat, reference, "real 4-option questions")
    assert check.collapsed and "real 4-option questions" in check.sentence()
    assert np.isnan(robustness.typical_real_spread(items_of(REAL), n_options=4, min_countries=13))  # too few


def rows_of(items, predictions):
    return tidy_scores(items, predictions, method="m", dataset="wvs", split="test")


def test_ctrl_agreement_is_one_when_the_country_changes_nothing():
    items = items_of(REAL)
    simulated, real = robustness.ctrl_agreement(rows_of(items, [np.full(4, 0.25)] * len(items)))
    assert simulated == pytest.approx(1) and 0.5 < real < 0.95
    faithful, real_again = robustness.ctrl_agreement(rows_of(items, REAL))
    assert faithful == pytest.approx(real_again) == pytest.approx(real)  # the same random partners


def test_letter_bias_is_the_distance_of_mean_shares_per_position():
    items = items_of([np.array([0.2, 0.8])] * 20, options=("yes", "no"))
    always_a = rows_of(items, [np.array([0.9, 0.1])] * 20)
    assert robustness.letter_bias_distances(always_a) == {2: (pytest.approx(0.7), 20)}
    assert robustness.letter_bias_distances(always_a, min_rows=21) == {}


def test_order_sensitivity_catches_a_simulator_that_follows_letters():
    items = items_of(REAL[:3])
    follows_letters = Method("letters", "", lambda items, context: [np.eye(it.n_options)[0] for it in items], "none")
    reads_options = Method("options", "", lambda items, context: [it.distribution for it in items], "none")
    for method, expected in ((follows_letters, 1.0), (reads_options, 0.0)):
        survey_order = method.run(items, Context())
        moved = robustness.order_predictions(method, items, Context(), shifts=[1, 2])
        assert robustness.order_sensitivity(survey_order, moved) == pytest.approx(expected)


def test_the_training_answers_of_a_question_move_with_its_options():
    # A method that predicts the mean of the other countries' answers (as shift's prior does) only
    # stays put if their answers are moved round with the options.
    def others_mean(items, context):
        return [np.mean([t.distribution for t in context.train if t.key == it.key and t.group != it.group], axis=0)
                for it in items]

    items = items_of(REAL)
    method = Method("others", "", others_mean, "train")
    context = Context(train=items)
    moved = robustness.order_predictions(method, items[:2], context, shifts=[1, 3])
    assert robustness.order_sensitivity(method.run(items[:2], context), moved) == pytest.approx(0)


def test_report_table_reads_each_check_against_the_real_level():
    items = items_of(REAL) + items_of(REAL[::-1], question="Q2")
    table = robustness.robustness_table(rows_of(items, [np.full(4, 0.25)] * len(items)), sensitivity=0.0)
    values = dict(zip(table["check"], table["simulated"]))
    assert values["between-country variation (ratio to real)"] == 0
    assert values["[ctrl] agreement: 1-JSD to a random other country"] == pytest.approx(1)
    assert "letter bias, 4 options (TV)" in values and values["order sensitivity (TV)"] == 0


def test_reports_are_saved_whole_and_yours_come_before_the_shipped_ones(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    shipped = tmp_path / "shipped"
    monkeypatch.setattr(robustness, "REFERENCE_REPORTS", shipped)
    items = items_of(REAL)
    rows = rows_of(items, REAL)
    table = robustness.robustness_table(rows)
    robustness.save_report(table.assign(simulated=0.5), "zero_shot", "wvs:C1-Q2",
                           rows, robustness.report_path("zero_shot", "wvs:C1-Q2", shipped))
    robustness.save_report(table.assign(simulated=0.5), "other", "wvs:C1-Q2",
                           rows, robustness.report_path("other", "wvs:C1-Q2", shipped))
    mine = robustness.save_report(table, "zero_shot", "wvs:C1-Q2", rows)
    assert mine.parent == tmp_path / "models" / "results" / "robustness" and mine.name == "zero_shot_wvs_C1-Q2.csv"
    (mine.parent / "broken.csv").write_text("not,a\nreport,at all\n")
    reports = robustness.load_reports()
    assert "broken.csv: not a robustness report" in caplog.text
    by_run = {run: part for run, part in reports.groupby(["simulator", "test"])}
    assert set(by_run) == {("zero_shot", "wvs:C1-Q2"), ("other", "wvs:C1-Q2")}
    assert (by_run[("zero_shot", "wvs:C1-Q2")]["source"] == "yours").all()  # not the shipped one
    assert by_run[("zero_shot", "wvs:C1-Q2")]["questions"].iloc[0] == 1
    assert by_run[("zero_shot", "wvs:C1-Q2")]["rows"].iloc[0] == 12


def test_robustness_command_writes_the_report(tmp_path, survey_root, capsys):
    from survey_sim.cli import main

    out = tmp_path / "report.csv"
    assert main(["--data-root", str(survey_root), "robustness", "--model", "dummy", "--test", "wvs_valid:C1-Q2",
                 "--max-questions", "3", "--output", str(out)]) == 0
    report = pd.read_csv(out)
    assert report["questions"].iloc[0] == 3 and report["test"].iloc[0] == "wvs_valid:C1-Q2:questions3"
    assert "order sensitivity (TV)" in set(report["check"])
    assert "zero_shot (dummy)" in capsys.readouterr().out
    assert main(["--data-root", str(survey_root), "robustness", "--model", "dummy", "--test", "wvs_valid:C1-Q2",
                 "--output", str(tmp_path / "report.txt")]) == 2


def test_the_default_simulators_reports_are_shipped():
    shipped = robustness.load_reports()
    shipped = shipped[shipped["source"] == "shipped"]
    assert {"shift:smollm2-135m-shift", "zero_shot (smollm2-135m)"} <= set(shipped["simulator"])
    assert (shipped["questions"] >= 20).all()
