import pytest

from survey_sim.data import DataError, load_user_file


def test_json_shares_percent_and_counts(write_json):
    rows = [
        {"question": "Happy?", "options": ["Yes", "No"], "group": "France", "shares": [60, 40]},
        {"question": "Happy?", "options": ["Yes", "No"], "group": "Peru", "counts": [3, 1]},
        {"question_id": "q2", "question": "Tea?", "options": ["Yes", "No"], "group": "Peru", "distribution": [0.5, 0.5]},
    ]
    dataset = load_user_file(write_json(rows, "mine.jsonl", jsonl=True))
    assert [it.distribution.tolist() for it in dataset] == [[0.6, 0.4], [0.75, 0.25], [0.5, 0.5]]
    assert dataset.items[0].iso3 == "FRA" and dataset.items[2].question_id == "q2"


def test_csv_long_format(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("question_id,question,group,option,share\n"
                    "q1,Happy?,France,Yes,0.7\nq1,Happy?,France,No,0.3\n"
                    "q1,Happy?,Japan,Yes,0.4\nq1,Happy?,Japan,No,0.6\n")
    dataset = load_user_file(path)
    assert len(dataset) == 2 and dataset.items[1].options == ("Yes", "No")


@pytest.mark.parametrize(
    "row, fragment",
    [
        ({"question": "Q", "options": ["a", "b"], "group": "X"}, "give exactly one of"),
        ({"question": "Q", "options": ["a", "b"], "group": "X", "shares": [0.5]}, "1 values for 2 options"),
        ({"question": "Q", "options": ["a", "b"], "group": "X", "shares": [3, 4]}, "neither fractions"),
        ({"question": "Q", "options": ["a"], "group": "X", "shares": [1]}, "at least 2 options"),
        ({"question": "Q", "options": ["a", "b"], "shares": [0.5, 0.5]}, "field 'group': is missing"),
    ],
)
@pytest.mark.fault
def test_json_errors_name_row_and_field(write_json, row, fragment):
    good = {"question": "Other", "options": ["a", "b"], "group": "Y", "shares": [0.5, 0.5]}
    with pytest.raises(DataError, match="row 1: .*" + fragment):
        load_user_file(write_json([good, row]))


@pytest.mark.fault
def test_csv_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("question,group,option,share\nQ,France,Yes,0.5\nQ,France,No,lots\n")
    with pytest.raises(DataError, match="(?s)bad.csv.*line 3: field 'share'"):
        load_user_file(path)
    path.write_text("question,group,answer,share\nQ,France,Yes,1\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['option'\]"):
        load_user_file(path)


@pytest.mark.fault
def test_unsupported_extension(tmp_path):
    path = tmp_path / "survey.xlsx"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="unsupported file type"):
        load_user_file(path)


@pytest.mark.fault
def test_json_lines_that_are_not_objects_are_all_named_by_line(tmp_path):
    from survey_sim.data import DataError, load_user_file

    path = tmp_path / "rows.jsonl"
    path.write_text('{"question": "Q", "options": ["a", "b"], "group": "X", "shares": [0.5, 0.5]}\n[1, 2]\n'
                    '"text"\nnot json\n')
    with pytest.raises(DataError) as caught:
        load_user_file(path)
    assert caught.value.problems == ["line 2: is a JSON list, not an object {...}",
                                     "line 3: is a JSON str, not an object {...}",
                                     "line 4: not valid JSON (Expecting value)"]
