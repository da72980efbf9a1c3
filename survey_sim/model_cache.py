"""GGUF models converted once: the dequantised weights (safetensors) and the tokenizer
(tokenizer.json), kept on disk and keyed by the GGUF file's sha256.

transformers reads a GGUF file by dequantising every tensor and rebuilding the tokenizer from
the GGUF vocabulary, which takes 10-15 s for the 135M default model (7 s of it the tokenizer)
and minutes for larger ones, in every new process. The converted model loads in about a second.

The folder is `~/.cache/survey-sim/models/<sha256[:16]>/` (`$SURVEY_SIM_MODEL_CACHE` moves it;
`SURVEY_SIM_NO_MODEL_CACHE=1` turns it off). It is written into a temporary sibling and renamed
into place, with a marker file written last, so a crash mid-write leaves nothing that is ever
read; a folder without the marker is ignored. Hashing a file each time would cost a second, so
each digest is remembered against the file's path, size and modification time.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
import warnings
from pathlib import Path

COMPLETE = "survey_sim_conversion.json"   # written last: its presence marks a complete folder
SHA256 = re.compile(r"[0-9a-f]{64}")


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "survey-sim" / "models"
    return Path(os.environ.get("SURVEY_SIM_MODEL_CACHE") or default)


def enabled() -> bool:
    return not os.environ.get("SURVEY_SIM_NO_MODEL_CACHE")


def file_digest(path: Path) -> str:
    """sha256 of a file, remembered against (path, size, mtime) in the cache folder."""
    stat = path.stat()
    memo_key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    memo_path = cache_dir() / "digests.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    if not isinstance(memo, dict):  # garbage that parses: a memo that starts again
        memo = {}
    if SHA256.fullmatch(str(memo.get(memo_key))):  # a garbled digest would name another model's folder
        return memo[memo_key]
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    memo[memo_key] = digest.hexdigest()
    _write_json_atomically(memo_path, memo)
    return memo[memo_key]


def converted(gguf: Path) -> Path | None:
    """The folder of the converted model, if a complete one exists."""
    folder = cache_dir() / file_digest(gguf)[:16]
    return folder if (folder / COMPLETE).is_file() else None


def store(gguf: Path, model, tokenizer) -> Path | None:
    """Save the converted model and tokenizer for `gguf`; None (with a warning) when the cache
    cannot be written: a read-only disk costs speed, not correctness."""
    digest = file_digest(gguf)
    folder = cache_dir() / digest[:16]
    tmp = folder.with_name(f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / COMPLETE).write_text(json.dumps({"gguf": str(gguf), "sha256": digest}))
        if folder.exists() and not (folder / COMPLETE).is_file():   # left incomplete by hand: never read
            shutil.rmtree(folder)
        try:
            tmp.rename(folder)
        except OSError:
            if not (folder / COMPLETE).is_file():   # not another process's complete copy: a real failure
                raise
            shutil.rmtree(tmp, ignore_errors=True)
        return folder
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        warnings.warn(f"could not cache the converted model in {folder} ({err}); the next load converts again")
        return None


def discard(folder: Path, err: Exception) -> None:
    """Remove a converted model that failed to load: the cache is disposable, and the GGUF file
    is converted again (a damaged folder must not stop every page)."""
    warnings.warn(f"converted model {folder} failed to load ({type(err).__name__}: {err}); converting again",
                  stacklevel=2)
    shutil.rmtree(folder, ignore_errors=True)


def _write_json_atomically(path: Path, data: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
    except OSError:
        pass  # the digest is recomputed next time
