"""One parser per source format, and the one function that loads any data set.

A parser turns one raw record into the fields of a `SurveyItem` (or raises `RowError`);
`load_records` does the rest for every format: distribution checks, ISO codes, duplicate
detection, and the all-or-nothing / drop-and-report policy of the manifest.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from ..registry import Registry
from .countries import is_non_national, to_iso3
from .manifest import DatasetSpec, data_root, dataset_spec
from .schema import LETTERS, DataError, Dataset, LoadReport, SurveyItem
from .validation import RowError, option_text, to_distribution

Parser = Callable[[dict, DatasetSpec], dict]
PARSERS: Registry[Parser] = Registry("data format")
register_format = PARSERS.register


# --- reading files -----------------------------------------------------------------------

def check_file(path: Path) -> Path:
    """`path` if it is a file; a folder or a missing file is an error naming it."""
    if os.path.isdir(path):
        raise DataError(str(path), ["is a folder, not a file"])
    if not os.path.isfile(path):  # os.path: False, not an OSError, for a name too long to exist
        raise FileNotFoundError(f"{path}: no such file")
    return path


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """The text of a file a user named; bytes that are not UTF-8 (a binary file) are a DataError
    naming the file, not a codec message naming neither it nor what to do."""
    try:
        return check_file(path).read_text(encoding=encoding)
    except UnicodeDecodeError as err:
        raise DataError(str(path), [f"byte {err.start}: not UTF-8 text; save the file as UTF-8"]) from None


def read_records(path: Path) -> list[dict]:
    """JSON (a list of objects) or JSON Lines; errors name the file and the line. A JSON Lines
    record carries its line ("_where"), so later problems name the line too; every line that is
    not a JSON object is reported at once."""
    text = read_text(path)
    if path.suffix == ".jsonl":
        records, problems = [], []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                problems.append(f"line {n}: not valid JSON ({err.msg})")
                continue
            if not isinstance(record, dict):
                problems.append(f"line {n}: is a JSON {type(record).__name__}, not an object {{...}}")
                continue
            records.append({**record, "_where": f"line {n}"})
        if problems:
            raise DataError(str(path), problems)
        return records
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(str(path), [f"line {err.lineno}, column {err.colno}: not valid JSON ({err.msg})"]) from None
    if not isinstance(data, list):
        raise DataError(str(path), [f"expected a JSON list of rows, got {type(data).__name__}"])
    return data


def field(record: dict, name: str, kind: type | tuple = str):
    if not isinstance(record, dict):
        raise RowError("(row)", f"is {type(record).__name__}, not an object")
    if name not in record:
        raise RowError(name, "is missing")
    value = record[name]
    if not isinstance(value, kind):
        raise RowError(name, f"is {type(value).__name__}, expected {getattr(kind, '__name__', kind)}")
    return value


# --- formats -----------------------------------------------------------------------------

GROUP_PATTERNS = {
    "en": re.compile(r"How would someone from (?P<group>.+?) answer the following question"),
    "zh": re.compile(r"来自(?P<group>.+?)的人会如何回答以下问题"),
}
OPTIONS_HEADER = re.compile(r"\s*\n(Here are the options:|以下是选项：)\s*$")
LETTERED_OPTION = re.compile(r"^\(([A-Z])\)\s?(.*)$", re.S)


def group_from_instruction(instruction: str, lang: str) -> str:
    match = GROUP_PATTERNS[lang].search(instruction)
    if not match:
        raise RowError("instruction", f"does not name a group: {instruction[:60]!r}")
    return match.group("group").strip()


def question_from_input(text: str) -> str:
    question = OPTIONS_HEADER.sub("", text).strip()
    if not question:
        raise RowError("input", "question text is empty")
    return question


def wvs_or_raw_id(value, survey: str) -> str:
    """WVS ids become "Q164" (the codebook's key); other surveys keep theirs as text."""
    value = str(value).strip()
    return f"Q{value}" if survey == "wvs" and value.isdigit() else value


@register_format("simllm")
def parse_simllm(record: dict, spec: DatasetSpec) -> dict:
    """Cao et al.'s files: `options` ["(A)text", ...], `options_dist` {letter: share}."""
    options, letters = [], []
    for raw in field(record, "options", list):
        match = LETTERED_OPTION.match(str(raw))
        if not match:
            raise RowError("options", f"{raw!r} does not start with a letter in brackets")
        letters.append(match.group(1))
        options.append(option_text(match.group(2)))
    if letters != list(LETTERS[: len(letters)]):
        raise RowError("options", f"letters are {''.join(letters)}, expected A, B, C... in order")
    shares = field(record, "options_dist", dict)
    unknown = sorted(set(shares) - set(letters))
    if unknown:
        raise RowError("options_dist", f"letters {unknown} are not options (options are {''.join(letters)})")
    return dict(
        question_id=wvs_or_raw_id(field(record, "id", (str, int)), spec.survey),
        question=question_from_input(field(record, "input")),
        options=tuple(options),
        group=group_from_instruction(field(record, "instruction"), spec.lang),
        values=[shares.get(letter, 0.0) for letter in letters],
        values_field="options_dist",
    )


TEXT_SHARE = re.compile(r"([\d.]+)% of people select option ([A-Z])")


@register_format("simllm_text")
def parse_simllm_text(record: dict, spec: DatasetSpec) -> dict:
    """The paper's training file: "36.93% of people select option C, 32.44% ... option A, ...".

    The shares are listed in no particular order, but each names its letter, and read by letter
    they agree with the independent copies (tests/test_paper_training_file.py). They are put in
    letter order A, B, C..., then "X" (412 rows have an "option X": the question's code-0 answer,
    such as "Disagree" or "Hard to say"; see `paper_c1q1`). No option texts, no question ids.
    """
    output = field(record, "output")
    shares = {letter: float(share) for share, letter in TEXT_SHARE.findall(output)}
    letters = sorted(shares, key=lambda letter: (letter == "X", letter))
    lettered = [letter for letter in letters if letter != "X"]
    if len(letters) < 2 or lettered != list(LETTERS[: len(lettered)]):
        raise RowError("output", f"expected '<x>% of people select option A, ...' for options A, B, ..., got {output[:60]!r}")
    return dict(
        question_id=None,
        question=question_from_input(field(record, "input")),
        options=None,
        group=group_from_instruction(field(record, "instruction"), spec.lang),
        values=[shares[letter] for letter in letters],
        values_field="output",
        source_letters="".join(letters),
    )


@register_format("goqa")
def parse_goqa(record: dict, spec: DatasetSpec) -> dict:
    """GlobalOpinionQA rows: options and distribution aligned, in the survey's order."""
    options = tuple(option_text(o) for o in field(record, "options", list))
    values = field(record, "distribution", list)
    if len(values) != len(options):
        raise RowError("distribution", f"has {len(values)} values for {len(options)} options")
    question = field(record, "question").strip()
    if not question:
        raise RowError("question", "is empty")
    return dict(question_id=None, question=question, options=options, group=field(record, "country").strip(),
                values=values, values_field="distribution")


@register_format("subpop")
def parse_subpop(record: dict, spec: DatasetSpec) -> dict:
    """SubPOP-Eval: `options` may end with "Refused", which has no entry in `responses`."""
    options = [option_text(o) for o in field(record, "options", list)]
    values = field(record, "responses", list)
    if len(options) == len(values) + 1 and options[-1] == "Refused":
        options = options[:-1]
    if len(values) != len(options):
        raise RowError("responses", f"has {len(values)} values for {len(options)} options")
    return dict(
        question_id=field(record, "qkey"),
        question=field(record, "question").strip(),
        options=tuple(options),
        group=f"{field(record, 'attribute')}: {field(record, 'group')}",
        values=values,
        values_field="responses",
    )


# --- the common loading machinery --------------------------------------------------------

def load_records(records: Iterable[dict], spec: DatasetSpec, source: str) -> Dataset:
    """Parse and validate every record. With bad_rows="error" one bad row rejects the file."""
    parse = PARSERS[spec.format]
    report = LoadReport(source=source)
    items, problems, seen = [], [], {}
    for row, record in enumerate(records):
        report.rows_read += 1
        try:
            fields = parse(record, spec)
            distribution, renormalised = to_distribution(fields.pop("values"), spec.scale, fields.pop("values_field"))
            key = (fields["question_id"] or fields["question"], fields["group"])
            if key in seen:
                raise RowError("(question, group)", f"duplicates row {seen[key]}: {key[1]!r} on {str(key[0])[:50]!r}")
            seen[key] = row
        except RowError as err:
            where = record.get("_where") if isinstance(record, dict) else None
            problem = f"{where or f'row {row}'}: {err}"
            (problems if spec.bad_rows == "error" else report.dropped).append(problem)
            continue
        report.renormalised += renormalised
        group = fields["group"]
        iso3 = None if (spec.groups != "countries" or is_non_national(group)) else to_iso3(group)
        items.append(SurveyItem(survey=spec.survey, lang=spec.lang, iso3=iso3, distribution=distribution,
                                source=source, row=row, **fields))
    if problems:
        raise DataError(source, problems)
    report.rows_kept = len(items)
    return Dataset(spec.name, items, [report])


def load_file(path: str | Path, spec: DatasetSpec) -> Dataset:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data set {spec.name!r}: file {path} not found")
    return load_records(read_records(path), spec, source=str(path))


UPLOAD_PREFIX = "upload:"  # "upload:FILE": a survey the user stored with the app (data/uploads.py)


def load_dataset(name: str, root: str | Path | None = None) -> Dataset:
    """Load a data set named in `data/datasets.toml` from the data root, or a stored upload
    ("upload:FILE"), so training and evaluation take the user's own survey like any other."""
    if name.startswith(UPLOAD_PREFIX):
        from .uploads import load_upload

        return load_upload(name.removeprefix(UPLOAD_PREFIX))
    spec = dataset_spec(name)
    builder = BUILDERS.get(spec.format)
    if builder is not None:
        return builder(spec, data_root(root))
    return load_file(data_root(root) / spec.path, spec)


# Data sets assembled from several files (e.g. the rebuilt WVS) register a builder here.
BUILDERS: dict[str, Callable[[DatasetSpec, Path], Dataset]] = {}

