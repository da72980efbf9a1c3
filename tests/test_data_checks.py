"""The three data-trust checks on small hand-made cases: ids for the paper's training file,
the cross-source quarantine, and the repair of Pew options split at commas."""
from dataclasses import replace

import numpy as np
import pytest

from survey_sim.data.cross_source import check_against_paper, duplicate_pairs
from survey_sim.data.paper_c1q1 import PaperQuestion, match_paper_questions, paper_items, paper_questions, words
from survey_sim.data.pew_repair import join_into, repair, tidy, whole_lists
from survey_sim.data.schema import Dataset, LoadReport, SurveyItem
from survey_sim.data.wvs import QuestionMatch, WvsQuestion, align_count, number_of


def item(question="Q?", group="Peru", iso3="PER", shares=(0.5, 0.5), options=None, qid=None, letters=None, survey="wvs"):
    shares = np.asarray(shares, float)
    return SurveyItem(survey=survey, question_id=qid, question=question, lang="en", group=group, iso3=iso3,
                      options=options if options is not None else tuple(f"o{i}" for i in range(len(shares))),
                      distribution=shares / shares.sum(), source_letters=letters)


def wvs_question(number, choices, zero=None):
    other = ((0, zero),) if zero else ()
    return WvsQuestion(number=number, qid=f"Q{number}", label=f"label {number}", wording=f"label {number}",
                       choices=tuple(choices), other_codes=other)


# --- ids for the paper's training file ---------------------------------------------------

def test_align_count_maps_letters_to_codes_and_x_to_code_zero():
    agree = wvs_question(122, ["Hard to say", "Agree"], zero="Disagree")
    assert align_count(2, True, agree).codes == (1, 2, 0)
    assert align_count(2, False, agree).codes == (1, 2)
    assert "3 lettered answers" in align_count(3, False, agree).problem
    assert "no substantive code 0" in align_count(2, True, wvs_question(7, ["Important", "Not mentioned"])).problem


def test_number_of_reads_variant_ids():
    assert (number_of("Q46"), number_of("164"), number_of("Q33_3"), number_of("Q234A"), number_of(None)) == (46, 164, 33, None, None)


class TextOnly:
    """A stand-in for `Matcher`: matches the questions it is told, by text, and no others."""

    def __init__(self, known: dict[str, int]):
        self.known = known

    def match_by_count(self, text, n_lettered, has_zero):
        number = self.known.get(text)
        return QuestionMatch(text, number, 0.9 if number else 0.2, "text", "matched" if number else "weak text",
                             f"Q{number}" if number else None, tuple(range(1, n_lettered + 1)) if number else ())


CODEBOOK = {n: wvs_question(n, ["Yes", "No"]) for n in range(1, 8)} | {4: wvs_question(4, ["a", "b", "c"])}


def questions(*texts_and_counts):
    return [PaperQuestion(text, n, False, position) for position, (text, n) in enumerate(texts_and_counts)]


def test_a_run_between_matched_neighbours_is_filled_by_position():
    qs = questions(("one", 2), ("two", 2), ("three", 3), ("five", 2))
    matches, warnings = match_paper_questions(qs, TextOnly({"one": 1, "five": 5}), CODEBOOK, {})
    assert warnings == [] and (matches["one"].number, matches["five"].number) == (1, 5)
    # Q2, Q3 and Q4 lie between Q1 and Q5: three candidates for two questions, so nothing is guessed
    assert matches["two"].number is None and matches["three"].number is None


def test_a_run_as_long_as_the_gap_is_matched_in_order():
    qs = questions(("one", 2), ("two", 2), ("three", 2), ("four", 3))
    matches, _ = match_paper_questions(qs, TextOnly({"one": 1, "four": 4}), CODEBOOK, {})
    assert (matches["two"].number, matches["three"].number) == (2, 3)
    assert matches["two"].method.startswith("position: between Q1 and Q4")


def test_a_single_question_takes_the_only_gap_question_with_its_count():
    qs = questions(("one", 2), ("four?", 3), ("six", 2))
    matches, _ = match_paper_questions(qs, TextOnly({"one": 1, "six": 6}), CODEBOOK, {})
    assert matches["four?"].number == 4   # Q2, Q3 and Q5 have two answers


def test_a_count_that_fits_no_gap_question_stays_unmatched():
    qs = questions(("one", 2), ("odd", 5), ("three", 2))
    matches, _ = match_paper_questions(qs, TextOnly({"one": 1, "three": 3}), CODEBOOK, {})
    assert matches["odd"].number is None and matches["odd"].reason == "weak text"


def test_numbers_out_of_order_disable_the_position_path():
    qs = questions(("one", 2), ("gap", 2), ("three", 2), ("two", 2))
    matches, warnings = match_paper_questions(qs, TextOnly({"one": 1, "three": 3, "two": 2}), CODEBOOK, {})
    assert matches["gap"].number is None and "do not increase" in warnings[0]


def test_a_globalopinionqa_twin_with_the_same_words_gives_the_number():
    twin = QuestionMatch("Is it good? (twin)", 5, 0.8, "text", "matched", "Q5", (1, 2))
    qs = questions(("Is it good?", 2))
    matches, _ = match_paper_questions(qs, TextOnly({}), CODEBOOK, {words("Is it good?"): twin})
    assert matches["Is it good?"].number == 5 and matches["Is it good?"].method.startswith("twin")


def test_paper_items_put_code_zero_first_with_the_codebooks_texts():
    agree = {122: wvs_question(122, ["Hard to say", "Agree"], zero="Disagree")}
    rows = [item("Immigrants fill jobs", shares=(0.2, 0.6, 0.2), letters="ABX"),   # A, B = codes 1, 2; X = 0
            item("Unknown question", shares=(0.5, 0.5), letters="AB")]
    raw = Dataset("raw", [replace(it, options=None) for it in rows])   # the file has no option texts
    match = QuestionMatch("Immigrants fill jobs", 122, 0.9, "text", "ok", "Q122", (1, 2, 0))
    report = LoadReport("raw")
    out = paper_items(raw, {"Immigrants fill jobs": match}, agree, report)
    assert len(out) == 1 and out[0].question_id == "Q122"
    assert out[0].options == ("Disagree", "Hard to say", "Agree") and out[0].source_letters == "XAB"
    assert out[0].distribution.tolist() == pytest.approx([0.2, 0.2, 0.6])
    assert report.dropped == ["1 rows of 'Unknown question': no WVS id (not matched)"]


def test_paper_questions_are_in_questionnaire_order_even_if_the_first_country_lacks_one():
    rows = [item(q, group=g, letters="AB") for g, qs in [("A", ["q1", "q3"]), ("B", ["q1", "q2", "q3"]),
                                                          ("C", ["q1", "q2", "q3"])] for q in qs]
    assert [q.text for q in paper_questions(Dataset("raw", rows))] == ["q1", "q2", "q3"]


# --- cross-source quarantine -----------------------------------------------------------------

def rows_for(country, iso3, shares_by_question):
    return [item(f"text {q}", group=country, iso3=iso3, shares=s, qid=q) for q, s in shares_by_question.items()]


PAPER_SHARES = {  # two countries that answer very differently on six questions
    "AAA": {f"Q{i}": (0.9, 0.1) for i in range(1, 7)},
    "BBB": {f"Q{i}": (0.1, 0.9) for i in range(1, 7)},
}


def paper_rows():
    return [r for iso3, shares in PAPER_SHARES.items() for r in rows_for(iso3, iso3, shares)]


def test_a_country_carrying_another_countrys_numbers_is_quarantined():
    goqa = rows_for("A-label", "AAA", PAPER_SHARES["BBB"]) + rows_for("B-label", "BBB", PAPER_SHARES["BBB"])
    checks = {c.country: c for c in check_against_paper(goqa, paper_rows())}
    assert checks["AAA"].quarantined and checks["AAA"].evidence == (
        "0 of 6 rows agree with its own label in the paper's files, 6 with BBB's")
    assert not checks["BBB"].quarantined and checks["BBB"].own == 6


def test_too_few_checkable_rows_decide_nothing():
    goqa = rows_for("A-label", "AAA", {"Q1": (0.1, 0.9), "Q2": (0.1, 0.9)})
    (check,) = check_against_paper(goqa, paper_rows())
    assert check.checked == 2 and not check.quarantined and not check.checkable


def test_a_country_agreeing_with_nobody_is_quarantined():
    goqa = rows_for("A-label", "AAA", {f"Q{i}": (0.5, 0.5) for i in range(1, 7)})
    (check,) = check_against_paper(goqa, paper_rows())
    assert check.quarantined and check.own == 0 and check.best_other is None


def test_copied_distributions_between_unchecked_countries_are_found():
    shares = {f"Q{i}": (0.1 * i, 1 - 0.1 * i) for i in range(1, 7)}
    items = rows_for("X", "XXX", shares) + rows_for("Y", "YYY", shares) + rows_for("Z", "ZZZ", {"Q1": (0.3, 0.7)})
    pairs = duplicate_pairs(items, ["XXX", "YYY", "ZZZ"])
    assert [(p.first, p.second, p.identical, p.shared, p.suspicious) for p in pairs] == [("XXX", "YYY", 6, 6, True)]


# --- Pew options split at commas ---------------------------------------------------------------

WHOLE = ("Yes, respects personal freedoms", "No, does not respect personal freedoms", "DK/Refused")
SPLIT = ("Yes", "respects personal freedoms", "No", "does not respect personal freedoms", "DK/Refused")


def pew_item(options, shares, question="Respects freedoms?"):
    return item(question, options=tuple(options), shares=shares, survey="pew")


def test_fragments_rejoin_to_the_whole_list_of_the_other_copy():
    whole = whole_lists([pew_item(WHOLE, (0.5, 0.3, 0.2))])
    fixed = repair(pew_item(SPLIT, (0.5, 0.3, 0.2, 0, 0)), whole)
    assert fixed.action == "whole list" and fixed.item.options == WHOLE
    assert fixed.item.distribution.tolist() == pytest.approx([0.5, 0.3, 0.2])


def test_without_a_whole_list_lower_case_fragments_join_the_one_before():
    fixed = repair(pew_item(SPLIT, (0.5, 0.3, 0.2, 0, 0)), {})
    assert fixed.action == "lower case" and fixed.item.options == WHOLE


def test_shares_past_the_whole_options_drop_the_row():
    fixed = repair(pew_item(SPLIT, (0.5, 0.3, 0.1, 0.1, 0)), {})
    assert fixed.item is None and "0.100 of the shares sit past the 3 whole options" in fixed.action


def test_a_whole_row_needs_nothing_and_spellings_follow_the_other_copy():
    whole = whole_lists([pew_item(("Society's failures", "Individual failures"), (0.5, 0.5))])
    assert repair(pew_item(("Society's failures", "Individual failures"), (0.4, 0.6)), whole) is None
    fixed = repair(pew_item(('"Societys failures"', "Individual failures"), (0.4, 0.6)), whole)
    assert fixed.action == "spelling" and fixed.item.options == ("Society's failures", "Individual failures")
    assert tidy("7.0") == "7" and tidy('"Dont know"') == "Dont know"


def test_a_whole_list_beats_the_lower_case_rule():
    # "al Qaeda" starts in lower case but is an option of its own in eval.json
    whole_options = ("Serbia", "al Qaeda", "Baltic Republics (Latvia, Estonia, Lithuania together)")
    whole = whole_lists([pew_item(whole_options, (0.2, 0.3, 0.5))])
    split = ("Serbia", "al Qaeda", "Baltic Republics (Latvia", "Estonia", "Lithuania together)")
    fixed = repair(pew_item(split, (0.2, 0.3, 0.5, 0, 0)), whole)
    assert fixed.item.options == whole_options
    assert join_into(split, whole_options) and not join_into(split[:3], whole_options)
