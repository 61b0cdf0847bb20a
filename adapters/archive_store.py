"""The history archive seen from outside: Parquet export through DuckDB, and a synthetic seed."""

from __future__ import annotations

import csv
import tempfile
import zlib
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, func, select

from events import Event, EventData, encode
from projections import archive as history
from projections.archive import Record
from projections.schema import archive
from projections.simulate import Simulation

_COLUMNS = ("topic", "partition", "offset", "event_id", "type", "time", "key", "order_id", "value")
_DUCKDB_TYPES = {
    "topic": "VARCHAR",
    "partition": "INTEGER",
    "offset": "BIGINT",
    "event_id": "VARCHAR",
    "type": "VARCHAR",
    "time": "TIMESTAMPTZ",
    "key": "VARCHAR",
    "order_id": "VARCHAR",
    "value": "VARCHAR",
}


def export_parquet(conn: Connection, out: Path, *, since: datetime | None = None, until: datetime | None = None) -> int:
    """Write the archive (time in [since, until]) to `out` as Parquet; return the rows written."""
    import duckdb  # deferred: only exports need it

    query = select(*(archive.c[name] for name in _COLUMNS)).order_by(
        archive.c.topic, archive.c.partition, archive.c.offset
    )
    if since is not None:
        query = query.where(archive.c.time >= since)
    if until is not None:
        query = query.where(archive.c.time <= until)
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with tempfile.TemporaryDirectory() as folder:
        staged = Path(folder) / "history.csv"
        with staged.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(_COLUMNS)
            for row in conn.execute(query.execution_options(yield_per=5000)):
                writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, datetime) else v) for v in row])
                count += 1
        columns = ", ".join(f"'{name}': '{kind}'" for name, kind in _DUCKDB_TYPES.items())
        with duckdb.connect() as db:
            db.execute(
                f"COPY (SELECT * FROM read_csv(?, header = true, columns = {{{columns}}})) TO ? (FORMAT parquet)",
                [str(staged), str(out)],
            )
    return count


def seed_archive(conn: Connection, *, orders: int, seed: int = 7, partitions: int = 8, prefix: str = "") -> int:
    """Append a simulated history (see `projections.simulate`) to the archive, after what is there."""
    next_offset = {
        (topic, partition): offset + 1
        for topic, partition, offset in conn.execute(
            select(archive.c.topic, archive.c.partition, func.max(archive.c.offset)).group_by(
                archive.c.topic, archive.c.partition
            )
        )
    }
    batch: list[tuple[Record, Event[EventData] | None]] = []
    count = 0
    for event in Simulation(orders=orders, seed=seed, run=f"seed{seed}").events():
        topic = f"{prefix}{event.data.topic}"
        partition = zlib.crc32(event.subject.encode()) % partitions
        offset = next_offset.get((topic, partition), 0)
        next_offset[(topic, partition)] = offset + 1
        batch.append((Record(topic, partition, offset, event.subject, encode(event)), event))
        if len(batch) >= 5000:
            history.append(conn, batch)
            count += len(batch)
            batch.clear()
    history.append(conn, batch)
    return count + len(batch)
