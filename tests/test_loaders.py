"""Loaders on small hand-written files in each source format."""
import numpy as np
import pytest

from survey_sim.data import DataError
from survey_sim.data.loaders import load_file
from survey_sim.data.manifest import DatasetSpec


def spec(fmt, scale="fraction", bad_rows="error", lang="en", survey="pew", groups="countries"):
    return DatasetSpec(name="t", title="t", survey=survey, format=fmt, path="", lang=lang, scale=scale, bad_rows=bad_rows,
                       groups=groups)


def simllm_row(country="France", qid="7", dist=None, options=("(A)Yes", "(B)No")):
    return {"id": qid, "instruction": f"How would someone from {country} answer the following question:\n\n",
            "input": "Do you agree? \nHere are the options: \n", "options": list(options),
            "options_dist": dist if dist is not None else {"A": 0.25, "B": 0.75}}


def test_simllm_row_becomes_an_item(write_json):
    (item,) = load_file(write_json([simllm_row()]), spec("simllm"))
    assert item.group == "France" and item.iso3 == "FRA"
    assert item.question == "Do you agree?" and item.options == ("Yes", "No")
    assert item.question_id == "7" and item.distribution.tolist() == [0.25, 0.75]


def test_wvs_ids_take_the_codebook_form(write_json):
    (item,) = load_file(write_json([simllm_row(qid="164", dist={"A": 40, "B": 60})]), spec("simllm", "percent", survey="wvs"))
    assert item.question_id == "Q164" and np.allclose(item.distribution, [0.4, 0.6])


def test_missing_letter_counts_as_zero_but_unknown_letter_is_an_error(write_json):
    (item,) = load_file(write_json([simllm_row(dist={"A": 1.0})]), spec("simllm"))
    assert item.distribution.tolist() == [1.0, 0.0]
    with pytest.raises(DataError, match=r"row 0: field 'options_dist': letters \['C'\] are not options"):
        load_file(write_json([simllm_row(dist={"A": 0.5, "C": 0.5})]), spec("simllm"))


def test_chinese_instruction(write_json):
    row = simllm_row() | {"instruction": "来自Japan的人会如何回答以下问题：\n\n", "input": "您同意吗？\n以下是选项：\n"}
    (item,) = load_file(write_json([row]), spec("simllm", lang="zh"))
    assert item.group == "Japan" and item.question == "您同意吗？" and item.lang == "zh"


def test_one_bad_row_rejects_the_whole_file_and_names_row_and_field(write_json):
    rows = [simllm_row("France"), simllm_row("Spain", dist={"A": -0.2, "B": 1.2}), simllm_row("Italy")]
    with pytest.raises(DataError) as info:
        load_file(write_json(rows, "bad.json"), spec("simllm"))
    message = str(info.value)
    assert "bad.json" in message and "row 1" in message and "'options_dist'" in message and "negative" in message
    assert "nothing was loaded" in message


def test_missing_field_is_named(write_json):
    row = simllm_row()
    del row["options"]
    with pytest.raises(DataError, match="row 0: field 'options': is missing"):
        load_file(write_json([row]), spec("simllm"))


def test_duplicate_question_group_is_an_error(write_json):
    with pytest.raises(DataError, match="row 1: .*duplicates row 0"):
        load_file(write_json([simllm_row(), simllm_row()]), spec("simllm"))


def test_drop_policy_keeps_good_rows_and_reports_the_rest(write_json):
    rows = [simllm_row("France"), simllm_row("Spain", dist={"A": 0.0, "B": 0.0})]
    dataset = load_file(write_json(rows), spec("simllm", bad_rows="drop"))
    assert [it.group for it in dataset] == ["France"]
    (report,) = dataset.reports
    assert report.rows_read == 2 and report.rows_kept == 1
    assert report.dropped == ["row 1: field 'options_dist': all shares are zero, so it is not a distribution"]


def test_bad_json_names_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[{"id": 1,\n "x": }]')
    with pytest.raises(DataError, match=r"(?s)broken.json.*line 2"):
        load_file(path, spec("simllm"))


def test_simllm_text_format(write_json):
    row = {"instruction": "How would someone from Andorra answer the following question:\n\n",
           "input": "Family \nHere are the options: \n",
           "output": "89.54% of people select option A, 9.66% of people select option B, 0.80% of people select option C"}
    (item,) = load_file(write_json([row]), spec("simllm_text", "percent", survey="wvs"))
    assert item.options is None and item.question_id is None
    assert np.allclose(item.distribution, [0.8954, 0.0966, 0.008])


def test_goqa_numeric_options_and_non_national_group(write_json):
    row = {"country": "S. Africa (Non-national sample)", "question": "Scale?", "options": ["Low", 2.0, "High"],
           "distribution": [0.2, 0.3, 0.5]}
    (item,) = load_file(write_json([row]), spec("goqa"))
    assert item.options == ("Low", "2", "High") and item.iso3 is None


def test_subpop_drops_trailing_refused(write_json):
    row = {"qkey": "natspac", "attribute": "CREGION", "group": "Northeast", "question": "Space?",
           "options": ["Too little", "About right", "Too much", "Refused"], "ordinal": [1.0, 2.0, 3.0],
           "responses": [0.3, 0.4, 0.3], "refusal_rate": 0.0}
    (item,) = load_file(write_json([row], "s.jsonl", jsonl=True), spec("subpop", survey="gss", groups="subpopulations"))
    assert item.options == ("Too little", "About right", "Too much") and item.iso3 is None
    assert item.group == "CREGION: Northeast"
