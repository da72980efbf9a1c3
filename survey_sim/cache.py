"""A disk cache of predicted distributions, keyed by (model, adapter, dtype, prompt, k).

The second time a map or a comparison asks for the same prompts they come from here instead of
the model. Keys fingerprint the model and adapter files (size and modification time of the
weights), so retraining an adapter under the same name never serves stale numbers. SQLite
makes concurrent readers and writers (the app, the CLI, several server threads) safe.
"""
from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .paths import models_dir


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
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS predictions (key TEXT PRIMARY KEY, value BLOB NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    @staticmethod
    def key(simulator_id: str, prompt: str, k: int) -> str:
        return hashlib.sha256(f"{simulator_id}\x00{k}\x00{prompt}".encode()).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found = {}
        with self._connect() as db:
            for start in range(0, len(keys), 500):  # SQLite's limit on bound parameters
                chunk = keys[start:start + 500]
                rows = db.execute(f"SELECT key, value FROM predictions WHERE key IN ({','.join('?' * len(chunk))})",
                                  chunk).fetchall()
                found.update({key: np.frombuffer(value, dtype=np.float64).copy() for key, value in rows})
        return found

    def put_many(self, entries: dict[str, np.ndarray]) -> None:
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO predictions VALUES (?, ?)",
                           [(key, np.asarray(value, dtype=np.float64).tobytes()) for key, value in entries.items()])

    def __len__(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
