"""Uploaded survey files (survey_sim/data/uploads.py): validated before they are stored, atomically."""
import json

import pytest

from survey_sim.data import DataError
from survey_sim.data.uploads import list_uploads, load_upload, safe_name, save_upload, uploads_dir

GOOD_ROWS = [{"question": "Happy?", "options": ["Yes", "No"], "group": "France", "shares": [60, 40]},
             {"question": "Happy?", "options": ["Yes", "No"], "group": "Peru", "counts": [3, 1]}]
GOOD_CSV = b"question_id,question,group,option,share\nq1,Happy?,France,Yes,0.7\nq1,Happy?,France,No,0.3\n"


def jsonl(rows) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


def test_valid_upload_is_stored_listed_and_loadable(tmp_path):
    path = save_upload("My Survey.jsonl", jsonl(GOOD_ROWS), folder=tmp_path)
    assert path == tmp_path / "My_Survey.jsonl" and list_uploads(tmp_path) == ["My_Survey.jsonl"]
    dataset = load_upload("My_Survey.jsonl", tmp_path)
    assert dataset.name == "My_Survey.jsonl" and len(dataset) == 2
    assert dataset.items[1].distribution.tolist() == [0.75, 0.25] and dataset.items[0].iso3 == "FRA"


def test_invalid_upload_names_row_and_field_and_leaves_nothing(tmp_path):
    bad = [GOOD_ROWS[0], {"question": "Q", "options": ["a", "b"], "group": "X", "shares": [0.5]}]
    with pytest.raises(DataError, match=r"(?s)^mine\.jsonl: .*line 2: field 'shares'"):
        save_upload("mine.jsonl", jsonl(bad), folder=tmp_path)
    assert list(tmp_path.iterdir()) == []  # no temporary file, no half upload


def test_csv_error_names_the_line(tmp_path):
    with pytest.raises(DataError, match="line 3: field 'share'") as caught:
        save_upload("s.csv", GOOD_CSV.replace(b"No,0.3", b"No,lots"), folder=tmp_path)
    assert caught.value.file == "s.csv"


@pytest.mark.parametrize("data, fragment", [
    (b"[]", "no rows"),
    (b"\xff\xfe not utf-8", "not UTF-8"),
    (b"{not json", "not valid JSON"),
])
def test_unreadable_or_empty_files_are_refused(tmp_path, data, fragment):
    with pytest.raises(DataError, match=fragment):
        save_upload("x.json", data, folder=tmp_path)
    assert list_uploads(tmp_path) == []


def test_existing_upload_is_replaced_only_when_asked(tmp_path):
    save_upload("s.csv", GOOD_CSV, folder=tmp_path)
    with pytest.raises(FileExistsError, match="already uploaded"):
        save_upload("s.csv", GOOD_CSV.replace(b"0.7", b"0.6").replace(b"0.3", b"0.4"), folder=tmp_path)
    assert load_upload("s.csv", tmp_path).items[0].distribution[0] == pytest.approx(0.7)
    save_upload("s.csv", GOOD_CSV.replace(b"0.7", b"0.6").replace(b"0.3", b"0.4"), overwrite=True, folder=tmp_path)
    assert load_upload("s.csv", tmp_path).items[0].distribution[0] == pytest.approx(0.6)


def test_a_failed_replacement_keeps_the_stored_upload(tmp_path):
    save_upload("s.csv", GOOD_CSV, folder=tmp_path)
    with pytest.raises(DataError):
        save_upload("s.csv", b"question,group,option,share\nQ,France,Yes,2\n", overwrite=True, folder=tmp_path)
    assert len(load_upload("s.csv", tmp_path)) == 1 and list_uploads(tmp_path) == ["s.csv"]


def test_csv_with_a_byte_order_mark(tmp_path):
    save_upload("excel.csv", b"\xef\xbb\xbf" + GOOD_CSV, folder=tmp_path)
    assert load_upload("excel.csv", tmp_path).items[0].question_id == "q1"


@pytest.mark.parametrize("name, expected", [
    ("survey.CSV", "survey.csv"),
    ("../../etc/rows.json", "rows.json"),
    ("C:\\Users\\me\\my rows (2).jsonl", "my_rows_2.jsonl"),
    (".hidden.json", "hidden.json"),
])
def test_names_are_plain_file_names(name, expected):
    assert safe_name(name) == expected


def test_unusable_names_and_types_are_refused(tmp_path):
    with pytest.raises(ValueError, match="not a usable file name"):
        safe_name("###.json")
    with pytest.raises(DataError, match="unsupported file type '.xlsx'"):
        save_upload("survey.xlsx", b"", folder=tmp_path)


def test_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_UPLOADS", str(tmp_path / "up"))
    save_upload("s.csv", GOOD_CSV)
    assert uploads_dir() == tmp_path / "up" and list_uploads() == ["s.csv"] and len(load_upload("s.csv")) == 1


def test_missing_upload_is_file_not_found(tmp_path):
    assert list_uploads(tmp_path / "none") == []
    with pytest.raises(FileNotFoundError, match="no upload called"):
        load_upload("gone.csv", tmp_path)


@pytest.mark.fault
def test_every_bad_row_is_reported_not_just_the_first(tmp_path):
    from survey_sim.data import DataError
    from survey_sim.data.uploads import save_upload

    rows = ("question_id,question,group,option,share\nq1,Happy?,France,Yes,0.7\nq1,Happy?,France,No,abc\n"
            "q2,Sad?,Japan,Yes,-1\nq2,Sad?,Japan,No,0.5\nq3,Fine?,Peru,Yes,0.5\nq3,Fine?,Peru,No,0.5\n")
    with pytest.raises(DataError) as caught:
        save_upload("bad.csv", rows.encode(), folder=tmp_path)
    problems = caught.value.problems
    assert len(problems) == 2 and problems[0].startswith("line 3: field 'share'") and problems[1].startswith("line 4")
    assert not any(path.suffix == ".csv" for path in tmp_path.iterdir())  # nothing half-valid is kept


def test_an_upload_trains_and_evaluates_like_any_data_set(tmp_path, monkeypatch):
    from survey_sim.evaluation import load_target, parse_target
    from survey_sim.training import TrainConfig

    monkeypatch.setenv("SURVEY_SIM_UPLOADS", str(tmp_path))
    save_upload("mine.jsonl", jsonl(GOOD_ROWS), folder=tmp_path)
    config = TrainConfig(name="on-mine", dataset="upload:mine.jsonl", train_split="all",
                         valid_dataset="upload:mine.jsonl", valid_split="all")
    train, valid = config.items()
    assert len(train) == len(valid) == len(GOOD_ROWS)
    assert parse_target("upload:mine.jsonl") == ("upload:mine.jsonl", "all")
    assert parse_target("upload:mine.jsonl:all") == ("upload:mine.jsonl", "all")
    assert len(load_target("upload:mine.jsonl").items) == len(GOOD_ROWS)


@pytest.mark.fault
def test_two_uploads_of_one_name_at_once_never_replace_each_other(tmp_path, monkeypatch):
    from survey_sim.data import uploads

    checked = uploads.validate

    def another_upload_lands_meanwhile(path, name):  # the other request stores the name while this one checks
        dataset = checked(path, name)
        (tmp_path / name).write_text("the other upload")
        return dataset

    monkeypatch.setattr(uploads, "validate", another_upload_lands_meanwhile)
    with pytest.raises(FileExistsError, match="uploaded meanwhile"):
        save_upload("mine.jsonl", jsonl(GOOD_ROWS), folder=tmp_path)
    assert (tmp_path / "mine.jsonl").read_text() == "the other upload"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.jsonl"]  # no temporary file left
