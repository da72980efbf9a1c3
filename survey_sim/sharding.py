"""Scoring across processes: under `accelerate launch`, each process scores its share of the rows.

    accelerate launch --num_processes 4 -m survey_sim.cli predict --input rows.jsonl --output out.jsonl
    accelerate launch --multi_gpu --num_processes 2 -m survey_sim.cli evaluate --method zero_shot --test wvs:C1-Q2

Rows are split into contiguous shares (accelerate's `split_between_processes`), every process
scores its own, and `gather_object` joins the shares in process order, which is input order, so
every process ends with all predictions in the order of the rows. Only the main process writes
files. On a CPU-only machine the processes talk over gloo; with GPUs each takes its own device.
Run as one process (no launcher), nothing is split and accelerate's state is never started.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

Row = TypeVar("Row")
Result = TypeVar("Result")


def launched() -> bool:
    """True under `accelerate launch` / torchrun with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _state():
    import torch
    from accelerate import PartialState

    # Without cpu=True, accelerate treats processes launched on a machine without GPUs as one
    # process each (no process group); with it, they join a gloo group.
    return PartialState(cpu=not torch.cuda.is_available())


def is_main_process() -> bool:
    return not launched() or _state().is_main_process


def process_device() -> str:
    """"auto" for a single process; under a launcher, this process's own device (cuda:N or cpu)."""
    return str(_state().device) if launched() else "auto"


def sharded(score: Callable[[list[Row]], Sequence[Result]], rows: Sequence[Row]) -> list[Result]:
    """`score(rows)`, the work split across the launched processes; results in input order on every process."""
    rows = list(rows)
    if not launched():
        return list(score(rows))
    from accelerate.utils import gather_object

    with _state().split_between_processes(rows) as share:
        mine = list(score(list(share)))
    if len(mine) != len(share):
        raise RuntimeError(f"scored {len(mine)} of this process's {len(share)} rows")
    return gather_object(mine)


def finish() -> None:
    """Under a launcher: wait for every process, then close the process group. Left open, gloo's
    threads can outlive it as the interpreter exits ("terminate called without an active
    exception", exit code -6, seen once in CI after all the work was done)."""
    if not launched():
        return
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def exit_launched(code: int) -> None:
    """Under a launcher, end this process now, all work done and the group closed: the
    interpreter's own teardown can still meet one of gloo's threads and abort ("terminate called
    without an active exception", exit code -6, seen in CI even after `finish`). Output is flushed
    first; nothing is left to clean up."""
    if not launched():
        return
    import logging

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
