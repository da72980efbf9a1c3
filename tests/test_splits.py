import numpy as np
import pytest

from survey_sim.data import Dataset, SurveyItem, leave_countries_out_folds, select
from survey_sim.data.splits import country_sets, parse_split, question_number


def item(qid, iso3, survey="wvs"):
    return SurveyItem(survey=survey, question_id=qid, question="q", options=("a", "b"), lang="en",
                      group=iso3 or "Somewhere", iso3=iso3, distribution=np.array([0.5, 0.5]))


def test_question_numbers():
    assert question_number(item("Q164", "AND")) == 164
    assert question_number(item("164", "AND")) == 164
    assert question_number(item("347", "MEX", survey="pew")) is None


def test_select_by_countries_and_questions():
    data = Dataset("d", [item("Q1", "AND"), item("Q163", "EGY"), item("Q164", "AND"), item("Q199", "EGY"), item("Q5", None)])
    assert [i.question_id for i in select(data, "C1-Q1")] == ["Q1"]
    assert [i.question_id for i in select(data, "C2-Q1")] == ["Q163"]
    assert [i.question_id for i in select(data, "Q2")] == ["Q164"]
    assert [i.question_id for i in select(data, "C2-Q3")] == ["Q199"]
    assert len(select(data, "all")) == 5
    assert len(select(data, "C1")) == 2  # items without an ISO code belong to no country set


def test_split_definitions_match_the_paper():
    sets = country_sets()
    assert len(sets["C1"]) == 46 and len(sets["C2"]) == 8 and len(sets["C3"]) == 11 and len(sets["PEW_C1"]) == 10
    assert sets["C2"] & sets["C3"] == {"NGA", "MAR"}


@pytest.mark.parametrize("name", ["C9-Q1", "Q1-Q2", "C1-Q2-Q3", "train"])
def test_unknown_split_lists_the_choices(name):
    with pytest.raises(KeyError, match="unknown split"):
        parse_split(name)


def test_folds_hold_out_every_country_once_and_are_seeded():
    countries = sorted(country_sets()["C1"])
    folds = leave_countries_out_folds(countries, k=10, seed=0)
    held = [c for _, test in folds for c in test]
    assert sorted(held) == countries and len(folds) == 5
    assert all(set(train).isdisjoint(test) and len(train) + len(test) == 46 for train, test in folds)
    assert folds == leave_countries_out_folds(countries, k=10, seed=0)
    assert folds != leave_countries_out_folds(countries, k=10, seed=1)


def test_a_share_of_groups_keeps_all_their_rows_and_is_seeded():
    from survey_sim.data.splits import sample_groups

    items = [item(q, iso3) for iso3 in ("ARG", "BRA", "CHL", "PER", "URY", "MEX", "COL", "BOL") for q in ("Q1", "Q2")]
    quarter = sample_groups(items, 0.25, seed=0)
    groups = {it.group for it in quarter}
    assert len(groups) == 2 and len(quarter) == 4  # two of eight countries, both questions each
    assert sample_groups(items, 0.25, seed=0) == quarter
    assert any({it.group for it in sample_groups(items, 0.25, seed=s)} != groups for s in range(1, 5))
    assert len({it.group for it in sample_groups(items, 0.01, seed=0)}) == 1  # at least one country
    with pytest.raises(ValueError, match="group fraction must be in"):
        sample_groups(items, 0.0)


@pytest.mark.integration
def test_an_adapters_own_training_items_follow_its_saved_config(survey_root, tmp_path):
    import json

    from safetensors.numpy import save_file

    from survey_sim.evaluation import training_items
    from survey_sim.training.config import TrainConfig

    config = TrainConfig(name="quarter", exclude_groups=["ARG", "JPN"], group_fraction=0.25, seed=3)
    adapter = tmp_path / "quarter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    save_file({"w": np.zeros(1, dtype=np.float32)}, adapter / "adapter_model.safetensors")
    (adapter / "survey_sim.json").write_text(json.dumps({"config": config.to_dict(), "data": "wvs:C1-Q1"}))
    items = training_items("adapter", survey_root, adapter=str(adapter))
    assert items == config.items(survey_root)[0]
    countries = {it.iso3 for it in items}
    assert len(countries) == round(0.25 * 44) and not countries & {"ARG", "JPN"}
    with pytest.raises(ValueError, match="give --adapter"):
        training_items("adapter", survey_root)
    assert training_items(f"adapter:{adapter}", survey_root) == items
