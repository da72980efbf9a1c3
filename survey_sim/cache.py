"""A disk cache of predicted distributions, keyed by (model, adapter, dtype, prompt, k).

The second time a map or a comparison asks for the same prompts they come from here instead of
the model. Keys fingerprint the model and adapter files (size and modification time of the
weights), so retraining an adapter under the same name never serves stale numbers. SQLite
makes concurrent readers and writers (the app, the CLI, several server threads) safe.

The cache is disposable: a file that is not a readable database (overwritten, truncated) is
logged and moved aside, and a value that is not a distribution is dropped; either way the
predictions are recomputed, never a page blocked by "file is not a database".
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .paths import models_dir

log = logging.getLogger(__name__)
WAIT_S = 30  # how long a read or write waits for another process's write (SQLite's busy timeout)


def damaged(err: sqlite3.DatabaseError) -> bool:
    """Whether SQLite's error says the file itself is bad (not a database, malformed), as opposed
    to busy or locked by another process: only the first may cost a file its place."""
    return (getattr(err, "sqlite_errorcode", 0) & 0xFF) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def file_fingerprint(path: str | Path) -> str:
    """Name, size and modification time of a file or of every file in a folder."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return ";".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files if p.exists())


class PredictionCache:
    """Distributions stored as float64 bytes under a sha256 of everything that determines them."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path or models_dir() / "cache" / "predictions.sqlite")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._create()
        except sqlite3.DatabaseError as err:
            self._recover(err)

    def _create(self) -> None:
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS predictions (key TEXT PRIMARY KEY, value BLOB NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=WAIT_S)

    def _recover(self, err: sqlite3.DatabaseError) -> bool:
        """After a failed read or write: a damaged file is moved aside and the cache starts empty
        (True: try again); a busy one (another process's long write) is left alone and this
        call is a miss (False), so a healthy shared cache is never thrown away for being busy."""
        if damaged(err):
            self._start_afresh(err)
            return True
        log.warning("prediction cache %s busy (%s): predicting without it this time", self.path, err)
        return False

    def _start_afresh(self, err: Exception) -> None:
        """Move an unreadable cache file aside (kept for a look, never read again) and start empty."""
        aside = self.path.with_name(f"{self.path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):  # another process may have moved it first
            os.replace(self.path, aside)
            log.warning("prediction cache %s unreadable (%s): moved to %s; predictions are recomputed",
                        self.path, err, aside.name)
        self._create()

    @staticmethod
    def key(simulator_id: str, prompt: str, k: int) -> str:
        return hashlib.sha256(f"{simulator_id}\x00{k}\x00{prompt}".encode()).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored distributions among `keys`; unreadable or invalid entries count as missing."""
        try:
            rows = self._rows(keys)
        except sqlite3.DatabaseError as err:
            self._recover(err)
            return {}
        found = {key: _distribution(value) for key, value in rows}
        return {key: value for key, value in found.items() if value is not None}

    def _rows(self, keys: Sequence[str]) -> list[tuple[str, bytes]]:
        rows = []
        with self._connect() as db:
            for start in range(0, len(keys), 500):  # SQLite's limit on bound parameters
                chunk = keys[start:start + 500]
                rows += db.execute(f"SELECT key, value FROM predictions WHERE key IN ({','.join('?' * len(chunk))})",
                                   chunk).fetchall()
        return rows

    def put_many(self, entries: dict[str, np.ndarray]) -> None:
        values = [(key, np.asarray(value, dtype=np.float64).tobytes()) for key, value in entries.items()]
        try:
            self._put(values)
        except sqlite3.DatabaseError as err:
            if self._recover(err):
                self._put(values)

    def _put(self, values: list[tuple[str, bytes]]) -> None:
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO predictions VALUES (?, ?)", values)

    def __len__(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]


def _distribution(value) -> np.ndarray | None:
    """A stored value as a probability vector, or None when it is not one (a damaged entry)."""
    if not isinstance(value, bytes) or len(value) % 8 or len(value) < 16:
        return None
    shares = np.frombuffer(value, dtype=np.float64).copy()
    ok = np.isfinite(shares).all() and (shares >= 0).all() and abs(shares.sum() - 1) < 1e-6
    return shares if ok else None
