"""Named points where the fault-injection tests kill the process, as a crash would.

    SURVEY_SIM_KILL_AT=adapter-mid-save survey-sim train ...

dies by SIGKILL on reaching `kill_point("adapter-mid-save")`: no `finally`, no atexit, no
flush, the same as kill -9 or the OOM killer at that instant. The points mark the stages of a
job where losing the process must still leave every file whole (tests/faults/test_kills.py);
timing a real kill -9 into a save of a few milliseconds would be a flaky test. Unset, a point
costs one dictionary lookup.
"""
from __future__ import annotations

import os
import signal

KILL_ENV = "SURVEY_SIM_KILL_AT"
POINTS = {
    "checkpoint-saved": "a training checkpoint was written, training goes on",
    "adapter-mid-save": "the adapter's files are written to a partial folder, not yet renamed into place",
    "adapter-saved": "the adapter is in place; the status file does not say done yet",
}


def kill_point(name: str) -> None:
    """SIGKILL this process if $SURVEY_SIM_KILL_AT names this point."""
    if name not in POINTS:  # a typo in the code would otherwise make a test that never kills
        raise KeyError(f"unknown kill point {name!r}; known: {', '.join(POINTS)}")
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
