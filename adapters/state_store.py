"""A durable copy of the processors' per-key state, for the embedded broker that forgets its changelogs."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class SqliteStateStore:
    """One SQLite file; each write is one transaction. Only the single embedded-mode worker uses it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS processor_state "
            "(tbl TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, PRIMARY KEY (tbl, key))"
        )
        self._lock = threading.Lock()

    def load_all(self, table: str) -> dict[bytes, bytes]:
        with self._lock:
            rows = self._connection.execute("SELECT key, value FROM processor_state WHERE tbl = ?", (table,))
            return {bytes(key): bytes(value) for key, value in rows}

    def save_many(self, table: str, items: list[tuple[bytes, bytes]]) -> None:
        if not items:
            return
        with self._lock:
            self._connection.execute("BEGIN")
            self._connection.executemany(
                "INSERT INTO processor_state (tbl, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (tbl, key) DO UPDATE SET value = excluded.value",
                [(table, key, value) for key, value in items],
            )
            self._connection.execute("COMMIT")
