"""Readable names for groups and questions, and stable link tokens (survey_sim.labels)."""
import numpy as np

from survey_sim.data.schema import SurveyItem
from survey_sim.labels import group_label, question_label, question_token


def item(survey="wvs", question_id=None, question="How often do you pray?", group="Japan"):
    return SurveyItem(survey=survey, question_id=question_id, question=question, options=("a", "b"), lang="en",
                      group=group, iso3=None, distribution=np.array([0.5, 0.5]))


def test_subpop_codes_read_as_words_and_countries_stay_as_they_are():
    assert group_label("POLPARTY: Democrat") == "Political party: Democrat"
    assert group_label("RACE: Black") == "Race or ethnicity: Black"
    assert group_label("Japan") == "Japan" and group_label("Korea: South") == "Korea: South"  # not a GSS code


def test_question_labels_lead_with_wvs_ids_and_end_with_gss_mnemonics():
    assert question_label(item(question_id="Q164")) == "Q164 How often do you pray?"
    assert question_label(item(survey="gss", question_id="natspac")) == "How often do you pray? (GSS natspac)"
    assert question_label(item()) == "How often do you pray?"


def test_a_question_without_an_id_gets_a_token_from_its_text():
    token = question_token(item(survey="pew"))
    assert token.startswith("t") and len(token) == 9 and token == question_token(item(survey="pew"))
    assert question_token(item(question="Something else?")) != token
    assert question_token(item(question_id="Q1")) == "Q1"
