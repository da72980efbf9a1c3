"""A JSON status file that a background job writes and the app reads.

Written atomically (temporary file, then rename), so a reader never sees half a file.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from transformers import TrainerCallback


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


class StatusCallback(TrainerCallback):
    """Progress (step, loss, validation metrics, ETA) to a status file and an optional callback."""

    def __init__(self, path: str | Path | None, progress=None):
        self.path, self.progress = path, progress
        self.started = time.time()

    def _report(self, state, **fields):
        elapsed = time.time() - self.started
        eta = elapsed / state.global_step * (state.max_steps - state.global_step) if state.global_step else None
        record = dict(step=state.global_step, max_steps=state.max_steps, epoch=state.epoch,
                      elapsed_s=round(elapsed, 1), eta_s=None if eta is None else round(eta, 1), **fields)
        if self.path is not None:
            write_status(self.path, state="running", **record)
        if self.progress is not None:
            self.progress(record)

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.time()
        self._report(state)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        fields = {}
        if "loss" in logs:
            fields["loss"] = logs["loss"]
        validation = {k[5:]: v for k, v in logs.items() if k.startswith("eval_")}
        if validation:
            history = read_status(self.path).get("validation", []) if self.path else []
            fields["validation"] = [*history, {"epoch": state.epoch, "step": state.global_step, **validation}]
        if fields:
            self._report(state, **fields)
