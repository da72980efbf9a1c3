"""A JSON status file that a background job writes and the app reads (`StatusCallback` in
trainer.py writes it during training).

Written atomically (temporary file, then rename), so a reader never sees half a file. A file
that is garbage all the same (a bad disk, a hand edit) reads as the state "unreadable" with an
error naming it: the Fine-tune page and the job queue show that, and the next write replaces it.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

UNREADABLE = "unreadable"
NUMBER = (int, float)
# The fields that readers compute with or format, and their JSON types: another type is garbage.
FIELDS = {"state": str, "name": str, "adapter": str, "step": int, "max_steps": int, "epoch": (*NUMBER, type(None)),
          "loss": NUMBER, "elapsed_s": NUMBER, "eta_s": (*NUMBER, type(None)), "updated": NUMBER,
          "validation": list, "best": dict, "final_validation": dict, "data": dict, "config": dict}


def write_status(path: str | Path, **fields) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    current = read_status(path)
    if current.get("state") == UNREADABLE:  # garbage is replaced, not carried on
        current = {}
    current.update(fields, updated=time.time())
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


def read_status(path: str | Path) -> dict:
    """The status in `path`; {} before its first write; {"state": "unreadable", "error": ...}
    for a file that is not a status."""
    path = Path(path)
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:  # ValueError: not UTF-8, not JSON
        return {"state": UNREADABLE, "error": f"status file {path}: {err}"}
    problem = status_problem(status)
    return {"state": UNREADABLE, "error": f"status file {path}: {problem}"} if problem else status


def status_problem(status) -> str | None:
    """Why a parsed JSON value is not a status, None if it is one."""
    if not isinstance(status, dict):
        return "not a JSON object"
    for key, kind in FIELDS.items():
        value = status.get(key)
        if key in status and (not isinstance(value, kind) or isinstance(value, bool)):
            return f"field {key!r} is {json.dumps(value)[:40]}"
    if not all(isinstance(entry, dict) for entry in status.get("validation", [])):
        return "field 'validation' holds a value that is not an object"
    return None
