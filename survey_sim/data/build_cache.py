"""A disk cache of the rebuilt data sets: the WVS rebuild matches questions for seconds in every
new process (each app start, CLI call and background job); a pickle loads in a fraction of that.

The key covers everything the result depends on: the data set's name, every file under the data
root (name, size, modification time), the manifest and the source code of `survey_sim.data`. A
changed input or a new version of the code builds afresh. Files are written atomically; an
unreadable one is rebuilt, never trusted. `SURVEY_SIM_NO_BUILD_CACHE=1` turns the cache off.
"""
from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path

from .manifest import CACHE_ROOT, MANIFEST_PATH
from .schema import Dataset

BUILD_CACHE = CACHE_ROOT.parent / "builds"
CODE_DIR = Path(__file__).resolve().parent


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
    path = Path(folder) / f"{name}-{inputs_key(name, root)}.pkl"
    try:
        with open(path, "rb") as f:
            dataset = pickle.load(f)
        if isinstance(dataset, Dataset):
            return dataset
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass  # absent, or written by another version: build afresh
    dataset = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            pickle.dump(dataset, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        for stale in path.parent.glob(f"{name}-*.pkl"):  # builds from older inputs or code
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only cache folder costs speed, not correctness
    return dataset
