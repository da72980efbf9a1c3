"""A JSON status file that a background job writes and the app reads (`StatusCallback` in
trainer.py writes it during training).

Written atomically (temporary file, then rename), so a reader never sees half a file.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path



def write_status(path: str | Path, **fields) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    current = read_status(path)
    current.update(fields, updated=time.time())
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


def read_status(path: str | Path) -> dict:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
