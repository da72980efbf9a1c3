import json
import re
from dataclasses import replace

import numpy as np
import pytest

from survey_sim.data import load_dataset
from survey_sim.data.manifest import answered_by_countries
from survey_sim.data.schema import SurveyItem
from survey_sim.prompts import (PAPER_CLOSING, build_prompt, control_group, control_items,
                                option_letters, parse_json_answer)

from tiny import make_tokenizer

# Row 0 of sft_wvs_valid.json, as the paper's code turns it into a prompt
# (instruction + input + ", ".join(options) + fix_prompt), written out by hand.
ANDORRA_164 = (
    "How would someone from Andorra answer the following question:\n\n"
    "How important is God in your life? Please use this scale to indicate. 10 means 'very important' and "
    "1 means 'not at all important.' \nHere are the options: \n"
    "(A)Not at all important, (B)2, (C)3, (D)4, (E)5, (F)6, (G)7, (H)8, (I)9, (J)Very important"
    " If had to select one of the options, my answer would be ("
)


def make_item(group="Peru", options=("Yes", "No"), question="Is it good?", lang="en", survey="wvs"):
    return SurveyItem(survey=survey, question_id="Q1", question=question, options=options, lang=lang,
                      group=group, iso3=None, distribution=np.full(len(options), 1 / len(options)))


def raw_prompt(row: dict) -> str:
    return row["instruction"] + row["input"] + ", ".join(row["options"]) + PAPER_CLOSING


@pytest.mark.parametrize("name, file", [("wvs_valid", "sft_wvs_valid.json"), ("wvs_valid_zh", "sft_wvs_zh_valid.json")])
def test_paper_template_reproduces_every_raw_row(survey_root, name, file):
    rows = json.loads((survey_root / "simllm-culturedist" / file).read_text(encoding="utf-8"))
    items = load_dataset(name, root=survey_root).items
    assert len(items) == len(rows)
    mismatched = {it.question_id for it in items if build_prompt(it) != raw_prompt(rows[it.row])}
    # One Chinese question writes its options "(A) text"; the loader strips that space.
    spaced = {f"Q{r['id']}" for r in rows if any(re.match(r"\([A-Z]\) ", o) for o in r["options"])}
    assert mismatched == spaced and len(spaced) == (name == "wvs_valid_zh")
    if name == "wvs_valid":
        assert build_prompt(items[0]) == ANDORRA_164


def test_zh_paper_template():
    item = make_item(group="Andorra", options=("是", "否"), question="您幸福吗?", lang="zh")
    # the paper appends its one (English) closing sentence to Chinese prompts too
    assert build_prompt(item) == ("来自Andorra的人会如何回答以下问题：\n\n您幸福吗? \n以下是选项：\n(A)是, (B)否"
                                  " If had to select one of the options, my answer would be (")
    assert build_prompt(item, template="lines") == ("来自Andorra的人会如何回答以下问题：\n\n您幸福吗? \n以下是选项：\n"
                                                    "(A)是\n(B)否\n如果必须选择其中一个选项，我的答案是(")


def test_lines_template_and_tuple_input():
    prompt = build_prompt(("Is it good?", ["Yes", "No"], "Peru"), template="lines")
    assert prompt == ("How would someone from Peru answer the following question:\n\nIs it good? \n"
                      "Here are the options: \n(A)Yes\n(B)No\nIf had to select one of the options, my answer would be (")
    assert prompt == build_prompt(make_item(), template="lines")


def test_group_template():
    prompt = build_prompt(("Is it good?", ["Yes", "No"], "a Democrat in the United States"), group_kind="description")
    assert prompt.startswith("How would a Democrat in the United States answer the following question:\n\n")
    assert not answered_by_countries("gss") and answered_by_countries("wvs")  # data/datasets.toml: groups
    subpop = make_item(group="POLPARTY: Democrat", survey="gss")
    assert build_prompt(subpop).startswith("How would a Democrat in the United States answer the following question:")
    other = make_item(group="MARITAL: Widowed", survey="gss")
    assert build_prompt(other).startswith("How would someone in the United States whose marital is Widowed answer")


@pytest.mark.integration
def test_every_subpop_group_has_a_natural_description(survey_root):
    from survey_sim.data import load_dataset
    from survey_sim.prompts import SUBPOP_DESCRIPTIONS

    assert {it.group for it in load_dataset("subpop", root=survey_root)} == set(SUBPOP_DESCRIPTIONS)


def test_option_letters():
    assert option_letters(3) == ["A", "B", "C"]
    assert option_letters(26)[-1] == "Z"
    with pytest.raises(ValueError, match="27 options"):
        option_letters(27)
    with pytest.raises(ValueError, match="27 options"):
        build_prompt(("q", [str(i) for i in range(27)], "Peru"))


def test_chat_wrapping_puts_the_closing_in_the_assistant_turn():
    prompt = build_prompt(make_item(), chat=True, tokenizer=make_tokenizer())
    assert prompt == ("<user>How would someone from Peru answer the following question:\n\nIs it good? \n"
                      "Here are the options: \n(A)Yes, (B)No</s>\n"
                      "<assistant>\nIf had to select one of the options, my answer would be (")
    with pytest.raises(ValueError, match="chat template"):
        build_prompt(make_item(), chat=True)


def test_control_prompts_use_another_seeded_group():
    items = [make_item(group=g) for g in ["Peru", "Chad", "Fiji", "Iran", "Oman"]]
    prompts = [build_prompt(it) for it in control_items(items, seed=1)]
    assert prompts == [build_prompt(it) for it in control_items(items, seed=1)]
    for item, prompt in zip(items, prompts, strict=True):
        assert f"someone from {item.group} " not in prompt and "someone from " in prompt
    # per item: the choice does not depend on the other items scored with it
    assert control_items(items[:1], seed=1, pool=[it.group for it in items]) == control_items(items, seed=1)[:1]
    chosen = {control_group(items[0], [it.group for it in items], seed) for seed in range(20)}
    assert len(chosen) > 1 and "Peru" not in chosen
    with pytest.raises(ValueError, match="no other group"):
        control_group(items[0], ["Peru"])


def test_json_template_asks_for_letters():
    prompt = build_prompt(make_item(options=("Yes", "No", "Maybe")), template="json")
    assert "(A)Yes\n(B)No\n(C)Maybe\n\n" in prompt and "(A, B, C)" in prompt
    assert not prompt.endswith("(")
    assert "JSON" in build_prompt(replace(make_item(), lang="zh"), template="json")


@pytest.mark.parametrize("text, expected", [
    ('{"A": 40, "B": 60}', [0.4, 0.6]),
    ('Sure! Here is my estimate:\n```json\n{"A": 25, "B": 75}\n```\nHope it helps.', [0.25, 0.75]),
    ('{"A": "30%", "B": "70%"}', [0.3, 0.7]),
    ('{"A": 30%, "B": 50%, "C": 20%}', [0.3, 0.5, 0.2]),  # not JSON, still readable
    ('{"A": 0.2, "C": 0.8}', [0.2, 0.0, 0.8]),  # fractions; B missing -> 0
    ('{"A": 50, "B": 30}', [0.625, 0.375]),  # renormalised to sum 1
    ('{"answer": {"a": 10, "b": 90}}', [0.1, 0.9]),
    ('A: 60%, B: 40%', [0.6, 0.4]),
    ('{"A": 20, "B": 80, "Z": 5}', [0.2, 0.8]),  # letters beyond k are ignored
])
def test_parse_json_answer(text, expected):
    k = len(expected)
    np.testing.assert_allclose(parse_json_answer(text, k), expected)


@pytest.mark.parametrize("text", [
    "I cannot answer that.", '{"X": 10}', '{"A": 0, "B": 0}', '{"A": -10, "B": 110}', "", "{not json at all}",
])
def test_parse_json_answer_unparseable(text):
    assert parse_json_answer(text, 2) is None
