"""Bring your own survey: a documented, validated import format.

JSON / JSON Lines, one object per (question, group):

    {"question_id": "q1",                 # optional; the question text identifies it otherwise
     "question": "How happy are you?",
     "options": ["Very", "Rather", "Not very", "Not at all"],
     "group": "France",                   # a country name or any described group
     "shares": [0.3, 0.5, 0.15, 0.05]}    # or "counts": [...], or "distribution": [...]

CSV, long format, one line per (question, group, option), options in the survey's order:

    question_id,question,group,option,share      (or a "count" column instead of "share")

Shares may be fractions (sum 1) or percentages (sum 100); counts are normalised. Any bad row
rejects the whole file with a message naming the file, the row (or line) and the field.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .loaders import check_file, field, load_records, read_records, read_text, register_format
from .manifest import DatasetSpec
from .schema import MAX_OPTIONS, DataError, Dataset
from .validation import EXPECTED_TOTAL, ROUNDING_TOLERANCE, RowError, option_text

SHARE_KEYS = ("shares", "distribution", "counts")
NO_ROWS = "no rows: the file holds no (question, group) rows"  # an empty file is no survey, not 0 rows scored


def guess_scale(values: list) -> str:
    """Fractions or percentages, from the total; an error when it is neither."""
    try:
        total = sum(float(v) for v in values)
    except (TypeError, ValueError):
        raise RowError("shares", f"{values!r} are not all numbers") from None
    for scale, expected in EXPECTED_TOTAL.items():
        if abs(total / expected - 1) <= ROUNDING_TOLERANCE:
            return scale
    raise RowError("shares", f"sum to {total:g}: neither fractions (1) nor percentages (100); use 'counts' for counts")


@register_format("user")
def parse_user(record: dict, spec: DatasetSpec) -> dict:
    present = [k for k in SHARE_KEYS if k in record] if isinstance(record, dict) else []
    if len(present) != 1:
        raise RowError("shares", f"give exactly one of {', '.join(SHARE_KEYS)} (found {present or 'none'})")
    values = field(record, present[0], list)
    options = tuple(option_text(o) for o in field(record, "options", list))
    if len(options) < 2:
        raise RowError("options", "a question needs at least 2 options")
    if len(values) != len(options):
        raise RowError(present[0], f"has {len(values)} values for {len(options)} options")
    if present[0] != "counts" and values:
        total = guess_scale(values)
        values = [float(v) / EXPECTED_TOTAL[total] for v in values]  # now fractions
    question_id = record.get("question_id")
    return dict(
        question_id=None if question_id in (None, "") else str(question_id),
        question=field(record, "question").strip(),
        options=options,
        group=field(record, "group").strip(),
        values=values,
        values_field=present[0],
    )


def csv_records(path: Path) -> tuple[list[dict], list[str]]:
    """Long CSV -> one record per (question, group), options in file order, and the problems of
    the lines that could not be read (their records are left out, so each problem is said once)."""
    # utf-8-sig: spreadsheet programs often start a CSV export with a byte-order mark
    with io.StringIO(read_text(path, encoding="utf-8-sig"), newline="") as f:
        reader = csv.DictReader(f)
        columns = set(reader.fieldnames or [])
        value_column = "share" if "share" in columns else "count"
        missing = {"question", "group", "option", value_column} - columns
        if missing:
            raise DataError(str(path), [f"header: missing column(s) {sorted(missing)}; need question, group, option and share or count"])
        records: dict[tuple, dict] = {}
        problems, broken = [], set()
        for line, row in enumerate(reader, start=2):
            key = (row.get("question_id") or "", row["question"], row["group"])
            record = records.setdefault(key, {"question_id": key[0], "question": key[1], "group": key[2],
                                              "_where": f"line {line}", "options": [], "counts" if value_column == "count" else "shares": []})
            try:
                value = float(row[value_column])
            except (TypeError, ValueError):
                problems.append(f"line {line}: field {value_column!r}: {row[value_column]!r} is not a number")
                broken.add(key)
                continue
            record["options"].append(row["option"])
            record["counts" if value_column == "count" else "shares"].append(value)
    return [record for key, record in records.items() if key not in broken], problems


def load_user_file(path: str | Path, name: str | None = None, survey: str = "user", lang: str = "en") -> Dataset:
    """Load a user's survey file (.json, .jsonl or .csv); all-or-nothing."""
    path = Path(path)
    check_file(path)  # a folder or a missing file: said before its suffix is judged
    if path.suffix.lower() not in (".json", ".jsonl", ".csv"):
        raise DataError(str(path), [f"unsupported file type {path.suffix!r}; use .json, .jsonl or .csv"])
    records, problems = csv_records(path) if path.suffix.lower() == ".csv" else (read_records(path), [])
    spec = DatasetSpec(name=name or path.stem, title=path.name, survey=survey, format="user",
                       path=str(path), lang=lang, scale="counts", bad_rows="error")
    try:  # every bad row at once: the lines that could not be read, then the rows that are invalid
        dataset = load_records(records, spec, source=str(path))
    except DataError as err:
        raise DataError(str(path), [*problems, *err.problems]) from None
    if problems or not len(dataset):
        raise DataError(str(path), problems or [NO_ROWS])
    return dataset


def read_prediction_rows(path: str | Path) -> list[dict]:
    """The rows of `survey-sim predict`'s input (JSON Lines of {question, options, group, ...}, no
    answers needed), options as text; every bad line is reported at once, naming it and its field."""
    rows, problems = [], []
    for n, line in enumerate(read_text(Path(path)).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise RowError("(row)", f"is {type(row).__name__}, not an object")
            if not isinstance(row.get("question"), str) or not isinstance(row.get("group"), str):
                raise RowError("question/group", "must both be texts")
            if not isinstance(row.get("options"), list) or not 2 <= len(row["options"]) <= MAX_OPTIONS:
                raise RowError("options", f"must be a list of 2 to {MAX_OPTIONS} texts")
            rows.append({**row, "options": [option_text(o) for o in row["options"]]})
        except (json.JSONDecodeError, RowError) as err:
            problems.append(f"line {n}: {err}")
    if problems or not rows:
        raise DataError(str(path), problems or [NO_ROWS])
    return rows
