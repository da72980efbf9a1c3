"""Ask the world: parsing a typed question, one item per country, the answers table."""
from dataclasses import replace

import numpy as np
import pytest

from survey_sim.ask import answers_table, check_question, country_items, known_countries, parse_options

from tiny import make_item


def test_parse_options_drops_letters_and_blank_lines():
    assert parse_options("(A) Yes\n\nB) No\nC. Maybe\n  Don't know  \n") == ["Yes", "No", "Maybe", "Don't know"]


@pytest.mark.parametrize("question, options, field", [
    ("  ", ["Yes", "No"], "question"), ("Why?", ["Yes"], "options: 1 given"), ("Why?", ["Yes", "Yes"], "listed twice"),
    ("Why?", [f"o{i}" for i in range(27)], "options: 27 given")])
def test_bad_questions_name_the_field(question, options, field):
    with pytest.raises(ValueError, match=field):
        check_question(question, options)


def test_country_items_have_no_real_answers():
    items = country_items(" Is it good? ", ["Yes", "No", "Maybe"], {"PER": "Peru", "JPN": "Japan"})
    assert [it.group for it in items] == ["Japan", "Peru"] and [it.iso3 for it in items] == ["JPN", "PER"]
    assert all(it.n_options == 3 and np.isnan(it.distribution).all() and it.question == "Is it good?" for it in items)


def test_known_countries_prefer_the_training_names():
    def country(name, iso3):
        return replace(make_item(group=name), iso3=iso3)

    primary = [country("Britain", "GBR")]
    others = [[country("S. Africa", "ZAF"), country("UK", "GBR")]]
    assert known_countries(primary, others) == {"GBR": "Britain", "ZAF": "South Africa"}


def test_answers_table_has_the_majority_and_every_share():
    items = country_items("Q?", ["Yes", "No"], {"PER": "Peru", "JPN": "Japan"})
    table = answers_table(items, [np.array([0.2, 0.8]), np.array([0.6, 0.4])])
    assert table["most likely answer"].tolist() == ["No", "Yes"]  # Japan, Peru (sorted by name)
    assert table["Yes"].tolist() == [0.2, 0.6]


def test_answer_map_has_one_legend_entry_per_option():
    from survey_sim.geo import answer_map

    figure = answer_map(["PER", "JPN", "KEN"], [0, 2, 0], ["Yes", "Maybe", "No"], ["p", "j", "k"], "title")
    assert [trace.name for trace in figure.data] == ["Yes", "Maybe", "No"]
    assert [list(trace.locations) for trace in figure.data] == [["PER", "KEN"], [], ["JPN"]]


def test_near_ties_are_shown_as_ties_not_as_the_first_option():
    from survey_sim.geo import TIE, answer_map

    items = country_items("Q?", ["Yes", "No", "Depends"], {"PER": "Peru", "JPN": "Japan"})
    table = answers_table(items, [np.full(3, 1 / 3), np.array([0.5, 0.3, 0.2])])
    assert table["majority"].tolist() == [TIE, 0]  # Japan's exact three-way tie is not "Yes"
    assert table["most likely answer"].tolist() == ["tie: Yes / No / Depends", "Yes"]
    figure = answer_map(table["iso3"].tolist(), table["majority"].tolist(), ["Yes", "No", "Depends"], ["j", "p"], "t")
    assert [trace.name for trace in figure.data][-1].startswith("tie")
    assert list(figure.data[-1].locations) == ["JPN"]


def test_in_bfloat16_answers_closer_than_its_error_are_ties():
    from survey_sim.geo import TIE, TIE_MARGINS

    items = country_items("Q?", ["Yes", "No", "Depends"], {"PER": "Peru"})
    close = [np.array([0.35, 0.33, 0.32])]
    assert answers_table(items, close, margin=TIE_MARGINS["float32"])["majority"].tolist() == [0]
    assert answers_table(items, close, margin=TIE_MARGINS["bfloat16"])["majority"].tolist() == [TIE]
