"""A disk cache of the rebuilt data sets: the WVS rebuild matches questions for seconds in every
new process (each app start, CLI call and background job); the cached build loads in a fraction
of that.

The key covers everything the result depends on: the data set's name, every file under the data
root (name, size, modification time), the manifest and the source code of `survey_sim.data`. A
changed input or a new version of the code builds afresh. `SURVEY_SIM_NO_BUILD_CACHE=1` turns
the cache off.

The file is gzipped JSON, never a pickle: anyone who can write to the cache folder could make a
pickle run code in the next `survey-sim` process. It carries the sha256 of its content, and every
row is checked again on load (a probability vector over its options); a file that fails any of
this is rebuilt, never trusted. Files are written atomically.
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .manifest import CACHE_ROOT, MANIFEST_PATH
from .schema import Dataset, LoadReport, SurveyItem

BUILD_CACHE = CACHE_ROOT.parent / "builds"
CODE_DIR = Path(__file__).resolve().parent
FORMAT = 1
SUM_TOLERANCE = 1e-9
log = logging.getLogger(__name__)


def inputs_key(name: str, root: Path) -> str:
    digest = hashlib.sha256(name.encode())
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    for path in [MANIFEST_PATH, *sorted(CODE_DIR.glob("*.py"))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def cached(name: str, root: Path, build: Callable[[], Dataset], folder: Path = BUILD_CACHE) -> Dataset:
    """`build()`'s data set, from the disk cache when its inputs are unchanged."""
    if os.environ.get("SURVEY_SIM_NO_BUILD_CACHE"):
        return build()
    path = Path(folder) / f"{name}-{inputs_key(name, root)}.json.gz"
    if path.exists():
        try:
            return read_build(path)
        except (OSError, EOFError, ValueError, KeyError, TypeError) as err:  # damaged or foreign: never trusted
            log.warning("build cache %s unusable (%s): rebuilding", path, err)
    dataset = build()
    try:
        write_build(path, dataset)
        for stale in path.parent.glob(f"{name}-*"):  # builds from older inputs or code (and old pickles)
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only cache folder costs speed, not correctness
    return dataset


def write_build(path: Path, dataset: Dataset) -> None:
    content = json.dumps({"name": dataset.name, "items": [_item_record(it) for it in dataset.items],
                          "reports": [dataclasses.asdict(r) for r in dataset.reports]}, ensure_ascii=False)
    envelope = json.dumps({"format": FORMAT, "sha256": hashlib.sha256(content.encode()).hexdigest(),
                           "content": content})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(gzip.compress(envelope.encode(), compresslevel=1))
    os.replace(tmp, path)


def read_build(path: Path) -> Dataset:
    """The data set in a cache file; ValueError when it is not exactly what `write_build` wrote."""
    envelope = json.loads(gzip.decompress(path.read_bytes()))
    if envelope.get("format") != FORMAT:
        raise ValueError(f"format {envelope.get('format')!r}, not {FORMAT}")
    content = envelope["content"]
    if hashlib.sha256(content.encode()).hexdigest() != envelope["sha256"]:
        raise ValueError("checksum does not match the content")
    data = json.loads(content)
    items = [_item(record, row) for row, record in enumerate(data["items"])]
    return Dataset(data["name"], items, [LoadReport(**report) for report in data["reports"]])


def _item_record(item: SurveyItem) -> dict:
    record = dataclasses.asdict(item)
    record["distribution"] = item.distribution.tolist()  # exact: JSON keeps a float64's 17 digits
    return record


def _item(record: dict, row: int) -> SurveyItem:
    """A cached row, checked as a loader checks one: known fields, a probability vector that
    matches its options."""
    distribution = np.asarray(record.pop("distribution"), dtype=np.float64)
    options = record.pop("options")
    item = SurveyItem(**record, options=None if options is None else tuple(options), distribution=distribution)
    valid = (distribution.ndim == 1 and distribution.size >= 1 and np.isfinite(distribution).all()
             and (distribution >= 0).all() and abs(distribution.sum() - 1) < SUM_TOLERANCE * distribution.size * 10
             and (options is None or len(options) == distribution.size))
    if not valid:
        raise ValueError(f"row {row}: not a probability vector over its options")
    return item
