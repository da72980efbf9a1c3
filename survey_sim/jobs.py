"""Background jobs: a queue in SQLite and one worker process at a time.

`submit(config)` records a queued fine-tuning job and makes sure a worker is running;
`submit_evaluation(adapter)` queues `survey-sim evaluate` of a finished adapter, whose rows
reach the results store and so the Leaderboard. The worker (`python -m survey_sim.jobs work`,
started in its own session so it outlives page reloads, closed browsers and a stopped app) takes
the oldest queued job, runs it as a separate process with the CLI (log to a file, a training's
progress to a JSON status file), records how it ended, and goes on until the queue is empty. So
one run at a time uses the machine, and a second request waits in the queue.

Liveness is an exclusive `flock` on `worker.lock`, held by the worker and inherited by its
`train` process: the kernel drops it when both are gone, however they died. `reconcile()`
(called by the app on every view) marks "running" jobs failed when nobody holds the lock,
and starts a worker when jobs are queued but none is running.

States: queued -> running -> done | failed | cancelled (a queued job can also be cancelled).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .adapters import list_adapters
from .cache import damaged
from .paths import adapters_dir, models_dir, write_text_atomically
from .registry import UnknownName
from .training.config import TrainConfig
from .training.status import read_status

STATES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")
WAIT_S = 30  # how long a transaction waits for another process's (SQLite's busy timeout)
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    config TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    pid INTEGER,
    returncode INTEGER,
    error TEXT
)"""


@dataclass(frozen=True)
class Job:
    """One row of the jobs table, with the paths of its files."""

    id: int
    name: str
    state: str
    config: dict
    created: float
    started: float | None
    finished: float | None
    pid: int | None
    returncode: int | None
    error: str | None
    folder: Path

    @property
    def kind(self) -> str:
        """"train" or "evaluate"."""
        return self.config.get("kind", "train")

    @property
    def log_path(self) -> Path:
        return self.folder / f"{self.id}.log"

    @property
    def status_path(self) -> Path:
        return self.folder / f"{self.id}.status.json"

    @property
    def config_path(self) -> Path:
        return self.folder / f"{self.id}.config.json"

    def status(self) -> dict:
        """The latest progress the training process wrote (step, loss, validation, ETA)."""
        return read_status(self.status_path)

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines of the log as a terminal would show them: of a progress bar
        redrawn with carriage returns, only its latest state."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        shown = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n")]
        return "\n".join([line for line in shown if line.strip()][-lines:])


class JobQueue:
    """The jobs of one folder (default models/jobs, under $SURVEY_SIM_MODELS if set): its SQLite
    file, logs and lock."""

    def __init__(self, folder: str | Path | None = None, adapters_root: str | Path | None = None):
        # Looked up when created, not imported, so $SURVEY_SIM_MODELS set later still counts.
        self.folder = Path(folder or models_dir() / "jobs")
        self.adapters_root = Path(adapters_root or adapters_dir())
        self.folder.mkdir(parents=True, exist_ok=True)
        self.db_path = self.folder / "jobs.sqlite"
        self.lock_path = self.folder / "worker.lock"
        try:
            with self._connect() as db:
                db.execute(SCHEMA)
        except sqlite3.DatabaseError as err:
            if not damaged(err):  # busy, locked, no disk: the jobs it holds must not be set aside
                raise
            self._start_afresh(err)  # not a database any more (overwritten, truncated)

    def _start_afresh(self, err: Exception) -> None:
        """Keep an unreadable job database aside (its jobs' logs and status files stay in the
        folder) and start an empty queue, rather than leave the Fine-tune page unusable."""
        aside = self.db_path.with_name(f"{self.db_path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.db_path, aside)
            logging.getLogger(__name__).warning("job database %s unreadable (%s): moved to %s; a new queue starts",
                                                self.db_path, err, aside.name)
        with self._connect() as db:
            db.execute(SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short transaction per call; the timeout rides out the other process's writes.
        db = sqlite3.connect(self.db_path, timeout=WAIT_S, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # BEGIN itself may have failed (a file that is not a database)
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def _job(self, row: sqlite3.Row) -> Job:
        return Job(**{**dict(row), "config": json.loads(row["config"])}, folder=self.folder)

    # --- what the app calls ----------------------------------------------------------------

    def submit(self, config: TrainConfig, start_worker: bool = True) -> Job:
        """Queue a fine-tuning run; refuses a name that an adapter or an active job already has."""
        self.check_name_free(config.name)
        with self._connect() as db:  # one write transaction: the check, the row and its config file
            if db.execute(f"SELECT 1 FROM jobs WHERE name = ? AND state IN ({', '.join('?' * len(ACTIVE))})",
                          (config.name, *ACTIVE)).fetchone():  # again, now that no other submit can run
                raise ValueError(f"a queued or running job is already training {config.name!r}")
            cursor = db.execute("INSERT INTO jobs (name, state, config, created) VALUES (?, 'queued', ?, ?)",
                                (config.name, config.to_json(), time.time()))
            job = self._job(db.execute("SELECT * FROM jobs WHERE id = ?", (cursor.lastrowid,)).fetchone())
            # Before the commit: a worker claims the job only after it, so never before its config exists.
            write_text_atomically(job.config_path, config.to_json())
        if start_worker:
            self.ensure_worker()
        return job

    def submit_evaluation(self, adapter: str, max_items: int | None = None, start_worker: bool = True) -> Job:
        """Queue `survey-sim evaluate` of a finished adapter on its own validation split, predicting
        as it was trained (`evaluation_command`): its rows go to the results store."""
        command = evaluation_command(adapter, self.adapters_root)
        command += ["--max-items", str(max_items)] if max_items else []
        config = {"kind": "evaluate", "adapter": adapter, "command": command}
        with self._connect() as db:
            cursor = db.execute("INSERT INTO jobs (name, state, config, created) VALUES (?, 'queued', ?, ?)",
                                (f"evaluate {adapter}", json.dumps(config), time.time()))
            job = self._job(db.execute("SELECT * FROM jobs WHERE id = ?", (cursor.lastrowid,)).fetchone())
        if start_worker:
            self.ensure_worker()
        return job

    def check_name_free(self, name: str) -> None:
        if any(a["name"] == name for a in list_adapters(self.adapters_root, include_invalid=True)):
            raise ValueError(f"an adapter named {name!r} already exists; choose another name")
        if any(j.name == name for j in self.jobs(states=ACTIVE)):
            raise ValueError(f"a queued or running job is already training {name!r}")

    def jobs(self, states: tuple[str, ...] = STATES) -> list[Job]:
        """Jobs in the given states, newest first."""
        marks = ", ".join("?" * len(states))
        with self._connect() as db:
            rows = db.execute(f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY id DESC", states).fetchall()
        return [self._job(r) for r in rows]

    def get(self, job_id: int) -> Job:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise UnknownName(f"no job {job_id}")
        return self._job(row)

    def cancel(self, job_id: int) -> Job:
        """Cancel a queued job, or stop a running one (SIGTERM to its train process)."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise UnknownName(f"no job {job_id}")
            if row["state"] not in ACTIVE:
                raise ValueError(f"job {job_id} is already {row['state']}")
            db.execute("UPDATE jobs SET state = 'cancelled', finished = ? WHERE id = ?", (time.time(), job_id))
        if row["state"] == "running" and row["pid"]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(row["pid"], signal.SIGTERM)  # the worker sees it end and moves on to the next job
        return self.get(job_id)

    def worker_alive(self) -> bool:
        with open(self.lock_path, "a") as lock:
            if not _acquire(lock, wait_s=0):
                return True
            fcntl.flock(lock, fcntl.LOCK_UN)
            return False

    def reconcile(self) -> list[Job]:
        """Settle "running" jobs whose worker died by their own process's outcome (a training that
        finished and saved its adapter is done, whatever happened to the worker after); fail the
        others; start a worker for queued jobs. Returns the failed."""
        if self.worker_alive():
            return []
        died = []
        with self._connect() as db:
            for row in db.execute("SELECT * FROM jobs WHERE state = 'running'").fetchall():
                finished = self._finished_anyway(self._job(row))
                db.execute("UPDATE jobs SET state = ?, finished = ?, error = ? WHERE id = ?",
                           ("done" if finished else "failed", time.time(),
                            None if finished else "the training process died (see its log)", row["id"]))
                if not finished:
                    died.append(row["id"])
        if self.jobs(states=("queued",)):
            self.ensure_worker()
        return [self.get(i) for i in died]

    def _finished_anyway(self, job: Job) -> bool:
        """Whether a training job got to its end whatever happened to its processes: its adapter
        was saved whole (the training record is written last) after the job started. A status
        file can say "done" before a crash, or lose that line to one; the adapter cannot lie.
        (An evaluation leaves no such trace, so it counts as failed.)"""
        from .adapters import METADATA_FILE, read_adapter

        folder = self.adapters_root / job.name
        if job.kind != "train" or not job.started or not (folder / METADATA_FILE).is_file():
            return False
        # A second of slack: file times lag the clock by a tick; an older adapter of this name would
        # have been refused at submit (`check_name_free`) anyway.
        saved_since_start = (folder / METADATA_FILE).stat().st_mtime >= job.started - 1
        return saved_since_start and read_adapter(folder)["error"] is None

    def ensure_worker(self) -> None:
        """Start a worker unless one is running (a second one would find the lock taken and exit)."""
        if self.worker_alive():
            return
        log = open(self.folder / "worker.log", "ab")
        subprocess.Popen([sys.executable, "-m", "survey_sim.jobs", "work", "--folder", str(self.folder)],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True, cwd=Path(__file__).resolve().parents[1])
        log.close()

    # --- what the worker does ----------------------------------------------------------------

    def work(self, lock_wait_s: float = 5.0) -> int:
        """Run queued jobs one after another until none is left; returns how many ran."""
        with open(self.lock_path, "a") as lock:
            if not _acquire(lock, lock_wait_s):
                return 0  # another worker has the queue
            ran = 0
            while (job := self._claim_next()) is not None:
                self._run(job, lock.fileno())
                ran += 1
            return ran

    def _claim_next(self) -> Job | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1").fetchone()
            if row is None:
                return None
            db.execute("UPDATE jobs SET state = 'running', started = ? WHERE id = ?", (time.time(), row["id"]))
        return self.get(row["id"])

    def _run(self, job: Job, lock_fd: int) -> None:
        arguments = (job.config["command"] if job.kind == "evaluate" else
                     ["train", "--config", str(job.config_path), "--status", str(job.status_path)])
        command = [sys.executable, "-m", "survey_sim.cli", *arguments]
        with open(job.log_path, "ab") as log:
            log.write(f"$ {' '.join(command)}\n".encode())
            log.flush()
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       pass_fds=(lock_fd,), env={**os.environ, "PYTHONUNBUFFERED": "1"})
            with self._connect() as db:
                db.execute("UPDATE jobs SET pid = ? WHERE id = ?", (process.pid, job.id))
                cancelled = db.execute("SELECT state FROM jobs WHERE id = ?", (job.id,)).fetchone()[0] == "cancelled"
            if cancelled:  # cancelled between being claimed and getting its pid
                process.terminate()
            returncode = process.wait()
        done = returncode == 0 or self._finished_anyway(job)  # killed after its adapter was saved: kept
        error = None if done else _last_error(job.log_tail(20)) or f"exit code {returncode}"
        with self._connect() as db:  # a job cancelled meanwhile stays cancelled
            db.execute("UPDATE jobs SET state = ?, finished = ?, returncode = ?, error = ? "
                       "WHERE id = ? AND state = 'running'",
                       ("done" if done else "failed", time.time(), returncode, error, job.id))


def evaluation_command(adapter: str, adapters_root: Path | None = None) -> list[str]:
    """The CLI arguments that score `adapter` on the validation split it was trained with, as it
    predicts in the app (`methods.trained_method`: a shift adapter from its training countries'
    prior), with the prediction cache on."""
    from .adapters import adapter_path, check_adapter, read_adapter
    from .methods import trained_method

    metadata = read_adapter(check_adapter(adapter_path(adapter, adapters_root)))["metadata"]
    config = metadata.get("config", {})
    test = f"{config.get('valid_dataset', 'wvs')}:{config.get('valid_split', 'C1-Q2')}"
    method, params = trained_method(metadata)
    command = ["evaluate", "--method", method, "--adapter", adapter, "--test", test, "--cache"]
    if method == "shift":
        command += ["--train", "adapter", *(["--param", f"s={params['s']:g}"] if params["s"] != 1.0 else [])]
    return command


def _acquire(lock, wait_s: float) -> bool:
    # Retry briefly: `worker_alive` probes take the lock for an instant.
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)


def _last_error(log_tail: str) -> str | None:
    """The line that says what went wrong: the CLI's "error: ..." or a traceback's last line."""
    lines = [line for line in log_tail.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("error:") or "Error" in line.split(":")[0]:
            return line
    return lines[-1] if lines else None


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m survey_sim.jobs",
                                     description="Run queued fine-tuning and evaluation jobs.")
    parser.add_argument("command", choices=["work"])
    parser.add_argument("--folder", help="the jobs folder (default: models/jobs)")
    args = parser.parse_args(argv)
    ran = JobQueue(args.folder).work()
    print(f"worker {os.getpid()}: ran {ran} job(s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
