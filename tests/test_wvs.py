"""WVS codebook and the GlobalOpinionQA -> WVS question-number matcher.

Unit tests use small hand-made codebooks; integration tests (marked) use the real files under
$SURVEY_SIM_DATA or ../shared/surveys and pin the numbers measured on them, so that a change in
the matcher shows up as a changed count.
"""
import collections
import json
import os
import re
from pathlib import Path

import pytest

from survey_sim.data.wvs import (
    Matcher, WvsQuestion, align_options, is_wvs_row, load_codebook, match_all,
    match_question, match_rate, match_report, split_item, split_of, substantive_mask,
)

DK = ["Don't know", "No answer", "Other missing; Multiple answers Mail (EVS)"]
CONFIDENCE = ("A great deal", "Quite a lot", "Not very much", "None at all")
CONFIDENCE_STEM = ("I am going to name a number of organizations. For each one, could you tell me how "
                   "much confidence you have in them: is it a great deal of confidence, quite a lot of "
                   "confidence, not very much confidence or none at all?")


def q(number, label, choices, wordings=(), other=((-1, "Don't know"), (-2, "No answer")), qid=None):
    return WvsQuestion(number=number, qid=qid or f"Q{number}", label=label,
                       wording=wordings[0] if wordings else label, choices=tuple(choices),
                       other_codes=tuple(other), wordings=tuple(wordings))


@pytest.fixture
def confidence_codebook():
    """A battery that shares its stem and options and differs by the item, plus an outsider."""
    return {
        64: q(64, "Confidence: Churches", CONFIDENCE),
        65: q(65, "Confidence: Armed Forces", CONFIDENCE),
        69: q(69, "Confidence: The Police", CONFIDENCE),
        70: q(70, "Confidence: Justice System/Courts", CONFIDENCE,
              ["How much confidence do you have in the courts?"]),
        46: q(46, "Feeling of happiness", ("Very happy", "Quite happy", "Not very happy", "Not at all happy")),
    }


# --- non-substantive options ----------------------------------------------------------------

REAL_NON_SUBSTANTIVE = [
    "Don't know", "Don´t know", "No answer", "No answer/refused", "No answer/Refused",
    "Other missing; Multiple answers Mail (EVS)", "Other missing; Not applicable; Multiple answers Mail (EVS)",
    "Missing; Not available", "Missing; Unknown", "Missing; Not applicable for other reasons",
    "Missing; Not available; Not applicable", "Missing", "Not asked", "Not asked in survey",
    "INAP: No internet/no social media", "Don't -9:-2", "It is against democracy (spontaneous)",
]
REAL_SUBSTANTIVE = ["Very important", "Don't belong", "Not a member", "Hard to say", "Disagree", "Not mentioned",
                    "Don't mind", "Not allowed to vote", "Other answer", "2", 2.0, "None at all", "Not at all"]


def test_substantive_mask_on_the_real_non_substantive_texts():
    assert substantive_mask(REAL_NON_SUBSTANTIVE) == [False] * len(REAL_NON_SUBSTANTIVE)
    assert substantive_mask(REAL_SUBSTANTIVE) == [True] * len(REAL_SUBSTANTIVE)


def test_is_wvs_row_tells_wvs_from_pew():
    assert is_wvs_row(["Yes", "No", "Don't know", "No answer", "Missing; Not available"])
    assert is_wvs_row(["Have done", "Might do", "Would never do", "INAP: No internet/no social media"])
    assert not is_wvs_row(["Yes", "No", "DK/Refused"])
    assert not is_wvs_row(["Democratic form of government", "Strong leader", "Don't know/Refused"])
    # a non-WVS row of the subset, all zero, writes these capitalised
    assert not is_wvs_row(["Emergencies", "Others", "Don't Know", "No Answer"])


def test_split_item_and_split_of():
    assert split_item("Stem?\n\nThe police") == ("Stem?", "The police")
    assert split_item("Stem? - Divorce") == ("Stem?", "Divorce")
    assert split_item("How interested are you in politics?") == ("How interested are you in politics?", None)
    # two statements of one question are not a sub-item
    assert split_item("Which is closer?\n\nA. Protect it\n\nB. Grow")[1] is None
    assert [split_of(n) for n in (1, 163, 164, 198, 199, 259, 260, None)] == ["Q1", "Q1", "Q2", "Q2", "Q3", "Q3", None, None]


# --- options --------------------------------------------------------------------------------

def test_options_map_to_codes_whatever_their_order():
    sat = q(50, "Satisfaction with financial situation of household",
            ["Dissatisfied", "2", "3", "4", "5", "6", "7", "8", "9", "Satisfied"])
    options = ["Satisfied", "9", "8", "7", "6", "5", "4", "3", "2", "Dissatisfied", *DK[:2]]
    assert align_options(options, sat).codes == (10, 9, 8, 7, 6, 5, 4, 3, 2, 1, -1, -2)
    # float scale points are the same as their text
    scale = q(112, "Corruption", [str(i) for i in range(1, 11)])
    floats = ["1 There is no corruption", 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, "10", "Don't know"]
    assert align_options(floats, scale).codes == (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, -1)


def test_code_zero_answers_pair_with_code_zero():
    member = q(99, "Active/Inactive membership: Environmental organization", ["Inactive member", "Active member"],
               other=[(0, "Don't belong"), (-1, "Don't know")])
    aligned = align_options(["Don't belong", "Inactive member", "Active member", "Don't know"], member)
    assert aligned.problem is None and aligned.codes == (0, 1, 2, -1)


def test_words_in_common_are_needed_for_a_fuzzy_option_pair():
    security = q(150, "Freedom and security - Which more important", ["Freedom", "Security"])
    assert "no counterpart" in align_options(["Freedom", "Equality", "Don't know"], security).problem
    war = q(146, "Worries: A war involving my country", ["Very much", "A great deal", "Not much", "Not at all"])
    assert align_options(["Very much", "A good deal", "Not much", "Not at all"], war).codes == (1, 2, 3, 4)


# --- matching -------------------------------------------------------------------------------

def test_sub_item_matches_on_the_item(confidence_codebook):
    match = match_question(f"{CONFIDENCE_STEM}\n\nThe police", [*CONFIDENCE, *DK], confidence_codebook)
    assert match.number == 69 and match.qid == "Q69"
    assert match.codes == (1, 2, 3, 4, -1, -2, None)
    assert match.split == "Q1" and "runner-up" in match.reason
    # the label says "Justice System/Courts"; the full wording says "the courts"
    assert match_question(f"{CONFIDENCE_STEM}\n\nThe courts", [*CONFIDENCE, *DK], confidence_codebook).number == 70


def test_option_count_disagreement_refuses(confidence_codebook):
    match = match_question(f"{CONFIDENCE_STEM}\n\nThe police", ["A great deal", "Quite a lot", "None at all", *DK],
                           confidence_codebook)
    assert match.number is None
    assert "no codebook question has these options" in match.reason
    assert "3 substantive options, Q69 has 4 answer codes" in match.reason


def test_ambiguous_text_returns_none_with_reason():
    aims = ("A high level of economic growth", "Strong defence forces", "More say", "Beautiful cities")
    codebook = {152: q(152, "Aims of country: first choice", aims), 153: q(153, "Aims of country: second choice", aims)}
    match = match_question("Aims of this country: first or second choice?", [*aims, *DK], codebook)
    assert match.number is None
    assert match.reason.startswith("ambiguous: ") and "Q152" in match.reason and "Q153" in match.reason


def test_an_item_the_codebook_lacks_stays_unmatched(confidence_codebook):
    match = match_question(f"{CONFIDENCE_STEM}\n\nThe Association of Ham Radio Amateurs", [*CONFIDENCE, *DK],
                           confidence_codebook)
    assert match.number is None and "< 0.5" in match.reason


def test_variant_coding_matches_its_base_number():
    three = q(33, "Jobs scarce: Men should have more right to a job than women", ["Agree", "Disagree", "Neither agree nor disagree"],
              qid="Q33_3")
    five = WvsQuestion(33, "Q33", "Jobs scarce: Men should have more right to a job than women", "",
                       ("Agree strongly", "Agree", "Neither agree nor disagree", "Disagree", "Disagree strongly"),
                       variants=(three,))
    match = match_question("Do you agree?\n\nWhen jobs are scarce, men should have more right to a job than women",
                           ["Agree", "Disagree", "Neither agree nor disagree", *DK], {33: five})
    assert (match.number, match.qid, match.codes[:3]) == (33, "Q33_3", (1, 2, 3))


def test_match_all_report_and_rate(confidence_codebook):
    rows = [
        {"country": c, "question": f"{CONFIDENCE_STEM}\n\n{item}", "options": [*CONFIDENCE, *DK], "distribution": []}
        for c in ("Chile", "Peru") for item in ("The police", "Churches", "Ham radio clubs")
    ] + [{"country": "Peru", "question": "Pew question", "options": ["Yes", "No", "DK/Refused"], "distribution": []}]
    matches = match_all(rows, Matcher(confidence_codebook))
    assert [(m.number, m.n_rows) for m in matches] == [(69, 2), (64, 2), (None, 2)]
    assert match_rate(matches) == {"questions": 3, "matched_questions": 2, "rows": 6, "matched_rows": 4,
                                   "question_rate": 2 / 3, "row_rate": 4 / 6}
    report = match_report(matches)
    assert list(report["number"].astype(object)[:2]) == [64, 69] and report["matched"].tolist() == [True, True, False]
    assert {"number", "qid", "split", "score", "rows", "method", "reason", "question"} <= set(report.columns)


# --- integration: the real files -----------------------------------------------------------

SHARED_SURVEYS = Path(__file__).resolve().parents[2] / "shared" / "surveys"


@pytest.fixture(scope="module")
def surveys() -> Path:
    root = Path(os.environ.get("SURVEY_SIM_DATA", SHARED_SURVEYS))
    if not (root / "wvs7-codebook" / "codebook.json").is_file():
        pytest.skip(f"WVS codebook not found under {root}")
    return root


@pytest.fixture(scope="module")
def codebook(surveys):
    return load_codebook(surveys / "wvs7-codebook")


@pytest.fixture(scope="module")
def matcher(codebook):
    return Matcher(codebook)


@pytest.fixture(scope="module")
def goqa_rows(surveys):
    return json.loads((surveys / "globalopinionqa-subset" / "eval.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def goqa_matches(goqa_rows, matcher):
    return match_all(goqa_rows, matcher)


@pytest.fixture(scope="module")
def sft_rows(surveys):
    return json.loads((surveys / "simllm-culturedist" / "sft_wvs_valid.json").read_text(encoding="utf-8"))


@pytest.mark.integration
def test_codebook_loads_questions_choices_and_chinese(codebook):
    assert len(codebook) == 258 and 223 not in codebook   # Q223 (party vote) has no codes 1..k
    assert codebook[46].choices == ("Very happy", "Quite happy", "Not very happy", "Not at all happy")
    assert codebook[7].choices == ("Important", "Not mentioned")   # code order, not file order
    assert codebook[48].choices[0] == "None at all" and codebook[48].choices[-1] == "A great deal"
    assert codebook[122].zero_choice == "Disagree" and codebook[122].choices == ("Hard to say", "Agree")
    assert codebook[1].zh_question.startswith("您觉得家庭") and codebook[1].zh_choices[0] == "很重要"
    assert sum(x.zh_question is not None for x in codebook.values()) == 132
    assert [v.qid for v in codebook[33].variants] == ["Q33_3"]
    assert codebook[82].country_specific and all(v.country_specific for v in codebook[82].variants)
    assert "how important is family" in codebook[1].wording.lower()


@pytest.mark.integration
def test_every_sft_wvs_valid_question_gets_its_id(sft_rows, matcher):
    """The 35 identified C1-Q2 questions (ids 164-198) as ground truth: all right, none wrong."""
    questions = {}
    for row in sft_rows:
        text = re.sub(r"\s*\nHere are the options:\s*$", "", row["input"])
        questions.setdefault(int(row["id"]), (text, [re.sub(r"^\([A-Z]\)", "", o) for o in row["options"]]))
    found = {number: matcher.match(text, options).number for number, (text, options) in questions.items()}
    assert len(found) == 35
    assert found == {number: number for number in questions}


@pytest.mark.integration
def test_goqa_match_counts(goqa_rows, goqa_matches):
    """Measured: 240 WVS questions (1,685 rows); 206 matched (1,616 rows), 34 unmatched (69 rows)."""
    assert sum(is_wvs_row(r["options"]) for r in goqa_rows) == 1685
    rate = match_rate(goqa_matches)
    assert (rate["questions"], rate["rows"]) == (240, 1685)
    assert (rate["matched_questions"], rate["matched_rows"]) == (206, 1616)
    assert collections.Counter(m.split for m in goqa_matches) == {"Q1": 131, "Q2": 31, "Q3": 44, None: 34}
    numbers = [m.number for m in goqa_matches if m.number]
    assert len(set(numbers)) == len(numbers)   # no two GOQA questions share a number


@pytest.mark.integration
def test_goqa_rows_per_split_and_country_set(goqa_rows, goqa_matches, sft_rows):
    number = {m.question: m.number for m in goqa_matches}
    wvs_rows = [r for r in goqa_rows if is_wvs_row(r["options"])]
    assert collections.Counter(split_of(number[r["question"]]) for r in wvs_rows) == \
        {"Q1": 998, "Q2": 258, "Q3": 360, None: 69}
    # each (question number, country) once: the splits can key on it
    keys = [(number[r["question"]], r["country"]) for r in wvs_rows if number[r["question"]]]
    assert len(keys) == len(set(keys))
    c1 = {re.search(r"someone from (.+?) answer", r["instruction"]).group(1) for r in sft_rows}
    c1 = {"Macau SAR" if c == "Macao SAR" else c for c in c1}   # the two files spell it differently
    c2 = {"Egypt", "Ethiopia", "Kenya", "Libya", "Morocco", "Nigeria", "Tunisia", "Zimbabwe"}
    c3 = {"Malaysia", "Thailand", "Czechia", "Greece", "Nigeria", "Morocco", "Peru", "Colombia", "Mexico",
          "Puerto Rico", "New Zealand"}
    table = {(name, split): sum(1 for r in wvs_rows if r["country"] in group and split_of(number[r["question"]]) == split)
             for name, group in (("C1", c1), ("C2", c2), ("C3", c3)) for split in ("Q1", "Q2", "Q3")}
    assert table == {("C1", "Q1"): 595, ("C1", "Q2"): 148, ("C1", "Q3"): 203,
                     ("C2", "Q1"): 118, ("C2", "Q2"): 23, ("C2", "Q3"): 26,
                     ("C3", "Q1"): 153, ("C3", "Q2"): 35, ("C3", "Q3"): 39}


@pytest.mark.integration
def test_goqa_known_matches_and_refusals(goqa_matches):
    by_end = {m.question.rsplit("\n\n", 1)[-1]: m for m in goqa_matches}
    by_start = {m.question[:60]: m for m in goqa_matches}

    def start(prefix):
        return next(m for text, m in by_start.items() if text.startswith(prefix))

    assert by_end["Stealing property"].number == 179
    assert by_end["Respondent"].number == 144            # not Q145, the family
    assert by_end["Signing an electronic petition"].number == 218   # not Q209, the paper petition
    assert by_end["Good manners"].codes[:2] == (2, 1)   # listed "Not mentioned", "Important"
    assert by_end["Art, music or educational organization"].codes[:3] == (0, 1, 2)
    assert start("How satisfied are you with the financial").codes[:3] == (10, 9, 8)
    assert by_end["When jobs are scarce, men should have more right to a job than women"].qid == "Q33_3"
    # refusals, each with its reason
    assert start("People sometimes talk about what the aims").number is None          # Q152 or Q153?
    assert "country-specific" in by_end["The European Union"].reason
    assert "no codebook question has these options" in by_end["Support of the needy"].reason
    girl = by_end["A girl should wait to have children until she is at least 18 years old, even if she is married"]
    assert girl.number is None and "< 0.5" in girl.reason
    assert "its options differ" in start("Now I'd like you to tell me your views on corruption").reason


@pytest.mark.integration
def test_goqa_questions_also_in_the_simllm_files_agree(goqa_matches, sft_rows):
    """The 31 GOQA questions whose text is the sft_wvs_valid text (up to punctuation) get its id."""
    def norm(text):
        text = re.sub(r"\s*\nHere are the options:\s*$", "", text).replace("\n\n", " ").replace(" - ", " ")
        return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()

    sft = {norm(r["input"]): int(r["id"]) for r in sft_rows}
    pairs = [(m.number, sft[norm(m.question)]) for m in goqa_matches if norm(m.question) in sft]
    assert len(pairs) == 31
    assert all(found == expected for found, expected in pairs)
