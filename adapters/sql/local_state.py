"""The processors' local copy of their changelogs, in one SQLite file per data folder.

Per stage: the state of each key, every event id it applied (the index that makes a late duplicate harmless
however late it comes: a key's state keeps no window of ids), and per changelog partition the offset the copy has
reached. Workers on one machine may share the file (WAL, a busy timeout): their partitions' rows are disjoint.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path

from pipeline.ports import StateWrite

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS stage_state (stage TEXT NOT NULL, partition INTEGER NOT NULL, key BLOB NOT NULL, "
    "value BLOB NOT NULL, PRIMARY KEY (stage, key))",
    "CREATE INDEX IF NOT EXISTS stage_state_partition ON stage_state (stage, partition)",
    "CREATE TABLE IF NOT EXISTS applied_event (stage TEXT NOT NULL, event_id BLOB NOT NULL, "
    "PRIMARY KEY (stage, event_id)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS changelog_position (stage TEXT NOT NULL, partition INTEGER NOT NULL, "
    "next_offset INTEGER NOT NULL, PRIMARY KEY (stage, partition))",
)
_LOOKUP_CHUNK = 500  # SQLite's host parameters per statement stay well under its limit


def _id_bytes(event_id: str) -> bytes:
    """Event ids are UUIDs: 16 bytes each in the index. Anything else is kept as its UTF-8 text."""
    try:
        return uuid.UUID(event_id).bytes
    except ValueError:
        return event_id.encode()


class _Connection:
    """One connection and its lock: a stage's calls come from the event loop and from worker threads."""

    def __init__(self, path: Path) -> None:
        self.sql = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=60)
        self.sql.execute("PRAGMA journal_mode=WAL")
        self.sql.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; the changelog is the truth
        self.lock = threading.Lock()


class SqliteStateStore:
    """`LocalStateStore` on SQLite. Each call is one transaction. Each stage has its own connection, so one
    stage's write never holds up another stage's lookup."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._connections: dict[str, _Connection] = {}
        self._opening = threading.Lock()
        with self._opening:
            schema = _Connection(path)
            for statement in _SCHEMA:
                schema.sql.execute(statement)
            schema.sql.close()

    def _for(self, stage: str) -> _Connection:
        with self._opening:
            if stage not in self._connections:
                self._connections[stage] = _Connection(self._path)
            return self._connections[stage]

    def load_partition(self, stage: str, partition: int) -> tuple[dict[bytes, bytes], int]:
        connection = self._for(stage)
        with connection.lock:
            rows = connection.sql.execute(
                "SELECT key, value FROM stage_state WHERE stage = ? AND partition = ?", (stage, partition)
            )
            states = {bytes(key): bytes(value) for key, value in rows}
            found = connection.sql.execute(
                "SELECT next_offset FROM changelog_position WHERE stage = ? AND partition = ?", (stage, partition)
            ).fetchone()
        return states, int(found[0]) if found else 0

    def apply_changelog(self, stage: str, partition: int, writes: list[StateWrite], position: int) -> None:
        self._write(stage, partition, writes, position)

    def save(self, stage: str, partition: int, writes: list[StateWrite], position: int | None) -> None:
        self._write(stage, partition, writes, position)

    def applied(self, stage: str, event_ids: list[str]) -> set[str]:
        by_bytes = {_id_bytes(event_id): event_id for event_id in event_ids}
        keys = list(by_bytes)
        found: set[str] = set()
        connection = self._for(stage)
        with connection.lock:
            for start in range(0, len(keys), _LOOKUP_CHUNK):
                chunk = keys[start : start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = connection.sql.execute(
                    f"SELECT event_id FROM applied_event WHERE stage = ? AND event_id IN ({marks})", (stage, *chunk)
                )
                found.update(by_bytes[bytes(row[0])] for row in rows)
        return found

    def _write(self, stage: str, partition: int, writes: Iterable[StateWrite], position: int | None) -> None:
        writes = list(writes)
        connection = self._for(stage)
        with connection.lock:
            sql = connection.sql
            sql.execute("BEGIN")
            try:
                sql.executemany(
                    "INSERT INTO stage_state (stage, partition, key, value) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (stage, key) DO UPDATE SET value = excluded.value, partition = excluded.partition",
                    [(stage, partition, write.key, write.value) for write in writes],
                )
                sql.executemany(
                    "INSERT OR IGNORE INTO applied_event (stage, event_id) VALUES (?, ?)",
                    [(stage, _id_bytes(event_id)) for write in writes for event_id in write.applied_ids],
                )
                if position is not None:
                    sql.execute(
                        "INSERT INTO changelog_position (stage, partition, next_offset) VALUES (?, ?, ?) "
                        "ON CONFLICT (stage, partition) DO UPDATE SET next_offset = excluded.next_offset",
                        (stage, partition, position),
                    )
                sql.execute("COMMIT")
            except BaseException:
                sql.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._opening:
            for connection in self._connections.values():
                with connection.lock:
                    connection.sql.close()
            self._connections.clear()
