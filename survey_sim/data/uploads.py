"""Survey files users upload in the app, kept under data/uploads/ (git-ignored).

An upload is validated by the same loader as `load_user_file` before it is stored: the bytes go
to a hidden temporary file in the uploads folder, are loaded from there, and only a file that
loads is renamed into place (atomic on one file system), so the folder never holds a half-written
or invalid upload. Names are sanitised to a plain file name; an existing upload is only replaced
when asked. The folder is $SURVEY_SIM_UPLOADS if set (tests), else data/uploads in the project.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from ..paths import PROJECT_ROOT
from .schema import DataError, Dataset
from .user_import import load_user_file

UPLOADS_ENV = "SURVEY_SIM_UPLOADS"
SUFFIXES = (".json", ".jsonl", ".csv")
MAX_BYTES = 50 * 1024 * 1024  # far above any survey table; stops a stray binary filling the disk


def uploads_dir() -> Path:
    return Path(os.environ.get(UPLOADS_ENV) or PROJECT_ROOT / "data" / "uploads").expanduser()


def safe_name(name: str) -> str:
    """A plain file name from what the browser sent: no folders, no leading dots, [A-Za-z0-9._-] only."""
    path = Path(name.replace("\\", "/"))  # a Windows path names its folders with backslashes
    suffix = path.suffix.lower()  # the loader picks the format by lower-case suffix
    if suffix not in SUFFIXES:
        raise DataError(name, [f"unsupported file type {path.suffix!r}; use .json, .jsonl or .csv"])
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem).strip("._")
    if not stem:
        raise ValueError(f"{name!r} is not a usable file name")
    return stem + suffix


def validate(path: Path, name: str) -> Dataset:
    """Load `path` as the upload `name`; errors name the upload, not the temporary file."""
    try:
        return load_user_file(path, name=name)  # which refuses bytes that are not UTF-8 and files without rows
    except DataError as err:
        raise DataError(name, err.problems) from None


def save_upload(name: str, data: bytes, overwrite: bool = False, folder: str | Path | None = None) -> Path:
    """Validate `data` as a user survey file and store it as (sanitised) `name`; returns its path.

    Raises DataError (naming rows and fields) for an invalid file, FileExistsError when the
    name is taken and `overwrite` is false, ValueError for a name with nothing usable in it.
    """
    name = safe_name(name)
    if len(data) > MAX_BYTES:
        raise DataError(name, [f"{len(data):,} bytes; uploads are limited to {MAX_BYTES:,}"])
    folder = Path(folder) if folder is not None else uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.exists() and not overwrite:
        raise FileExistsError(f"{name} is already uploaded; rename the file, or replace the stored one")
    # Same folder as the target, so the rename below cannot cross file systems.
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=target.suffix)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        validate(Path(tmp), name)
        if overwrite:
            os.replace(tmp, target)
        else:  # a hard link fails if the name appeared meanwhile (another upload of it): never replaced silently
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise FileExistsError(f"{name} was uploaded meanwhile; rename the file, or replace the stored one") \
                    from None
    finally:
        Path(tmp).unlink(missing_ok=True)  # still there only when validation or the rename failed
    return target


def list_uploads(folder: str | Path | None = None) -> list[str]:
    """Names of the stored uploads, sorted; temporary files of uploads in progress are hidden."""
    folder = Path(folder) if folder is not None else uploads_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUFFIXES)


def load_upload(name: str, folder: str | Path | None = None) -> Dataset:
    """A stored upload as a Dataset named after its file (usable wherever a data set is)."""
    if not name:  # "upload:" alone: no file to look for
        raise ValueError("an upload is named upload:FILE, e.g. upload:mine.csv")
    folder = Path(folder) if folder is not None else uploads_dir()
    path = folder / safe_name(name)
    if not path.is_file():
        raise FileNotFoundError(f"no upload called {name!r} in {folder}")
    return load_user_file(path, name=path.name)
