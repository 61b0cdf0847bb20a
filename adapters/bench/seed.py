"""`oms seed-history`: a synthetic history appended to the archive, to replay and export at scale."""

from __future__ import annotations

import zlib

from sqlalchemy import Connection, func, select

from adapters.bench.history import Simulation
from events import Event, EventData, encode
from projections import archive as history
from projections.archive import Record
from projections.tables import archive


def seed_archive(conn: Connection, *, orders: int, seed: int = 7, partitions: int = 8, prefix: str = "") -> int:
    """Append a simulated history (see `adapters.bench.history`) to the archive, after what is there."""
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
