"""Content-addressed embedding cache: an in-process LRU over an optional SQLite file.

Keys are sha256(model id, text), so a vector is reused wherever the same model meets the
same text again: a schema seen before costs no forward pass. The disk tier lets every
process on a node (API replicas, actors, the CLI) share vectors and keeps them across
restarts. The cache never fails an encode: a disk error only costs a recomputation.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

log = logging.getLogger("autonomos.models.cache")

_SQL_CHUNK = 500  # bound parameters per SELECT (SQLite allows 32766 here; stay modest)


def content_key(model_id: str, text: str) -> str:
    return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()


class EmbeddingCache:
    """Thread-safe LRU of float32 vectors, optionally backed by ``path`` (SQLite, WAL)."""

    def __init__(self, max_entries: int, path: Path | None = None) -> None:
        self.max_entries = max_entries
        self.path = path
        self.hits = 0
        self.misses = 0
        self._lru: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._db = self._open(path)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection | None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=5, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vec BLOB NOT NULL)"
                " WITHOUT ROWID"
            )
            return db
        except (OSError, sqlite3.Error) as e:
            log.warning("embedding disk cache disabled (%s): %s", path, e)
            return None

    def __len__(self) -> int:
        return len(self._lru)

    def get_many(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``keys`` (memory first, then disk)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for k in wanted:
                vec = self._lru.get(k)
                if vec is not None:
                    self._lru.move_to_end(k)
                    found[k] = vec
            rest = [k for k in wanted if k not in found]
            if rest and self._db is not None:
                from_disk = self._disk_get(rest)
                found.update(from_disk)
                self._remember(from_disk)
            self.hits += len(found)
            self.misses += len(wanted) - len(found)
        return found

    def put_many(self, items: Mapping[str, np.ndarray]) -> None:
        frozen = {}
        for k, v in items.items():
            vec = np.array(v, dtype=np.float32, copy=True)
            vec.flags.writeable = False  # a caller can never alter a cached vector
            frozen[k] = vec
        with self._lock:
            self._remember(frozen)
            if self._db is not None and frozen:
                self._disk_put(frozen)

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- internals (called with the lock held) -----------------------------------------

    def _remember(self, items: Mapping[str, np.ndarray]) -> None:
        if self.max_entries <= 0:
            return
        for k, v in items.items():
            self._lru[k] = v
            self._lru.move_to_end(k)
        while len(self._lru) > self.max_entries:
            self._lru.popitem(last=False)

    def _disk_get(self, keys: list[str]) -> dict[str, np.ndarray]:
        assert self._db is not None
        out: dict[str, np.ndarray] = {}
        try:
            for i in range(0, len(keys), _SQL_CHUNK):
                chunk = keys[i : i + _SQL_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, vec FROM embeddings WHERE key IN ({marks})",  # noqa: S608
                    chunk,
                )
                for key, blob in rows:
                    out[key] = np.frombuffer(blob, dtype=np.float32)
        except sqlite3.Error as e:
            log.warning("embedding disk cache read failed: %s", e)
        return out

    def _disk_put(self, items: Mapping[str, np.ndarray]) -> None:
        assert self._db is not None
        try:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR IGNORE INTO embeddings (key, vec) VALUES (?, ?)",
                [(k, v.tobytes()) for k, v in items.items()],
            )
            self._db.execute("COMMIT")
        except sqlite3.Error as e:  # e.g. locked by another process for > timeout
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            log.warning("embedding disk cache write skipped: %s", e)
