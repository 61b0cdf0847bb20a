"""Durability for the embedded broker, which keeps its log in memory.

Stopping: the demo stops its traffic, waits until the history archive holds every message of every
topic it archives (quiesce), then stops the processes. Starting again on the same data folder: the
archived log is produced back into the fresh broker, partition by partition, at the same offsets. The
processors keep a copy of their state in SQLite (`pipeline-state.sqlite3`) and the projections their positions
in the views database, so each skips what it had already applied: no effect is repeated, no view counts
anything twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from sqlalchemy import Engine, inspect

from adapters.kafka.offsets import log_end_offsets
from projections import archive as history
from projections.projector import ARCHIVE
from projections.tracking import tracked_offsets


class RestoreError(RuntimeError):
    """The archive cannot be put back at the same offsets (a gap, or fewer partitions than archived)."""


def archived_count(engine: Engine) -> int:
    if not inspect(engine).has_table("event_archive"):
        return 0
    with engine.connect() as conn:
        return history.count(conn)


async def restore_log(engine: Engine, bootstrap: str, prefix: str) -> int:
    """Produce every archived message back to its topic and partition; check each lands at its offset."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=5, max_batch_size=1 << 20)
    await producer.start()
    restored = 0
    try:
        with engine.connect() as conn:
            for records in history.iter_records(conn, batch=5000):
                pending = [
                    (
                        record,
                        await producer.send(
                            record.topic,
                            value=record.value,
                            key=record.key.encode() if record.key is not None else None,
                            partition=record.partition,
                        ),
                    )
                    for record in records
                    if record.topic.startswith(prefix)
                ]
                for record, future in pending:
                    landed = await future
                    if landed.offset != record.offset:
                        raise RestoreError(
                            f"{record.topic}[{record.partition}] offset {record.offset} came back at "
                            f"{landed.offset}: the archive has a gap there, so the log cannot be restored"
                        )
                restored += len(pending)
    finally:
        await producer.stop()
    return restored


async def wait_until_archived(engine: Engine, bootstrap: str, topic_names: Sequence[str], seconds: float) -> bool:
    """True once the archive holds every message of `topic_names` and nothing new arrived for a moment."""
    deadline = time.monotonic() + seconds
    quiet_since: float | None = None
    last_ends: dict[tuple[str, int], int] = {}
    while time.monotonic() < deadline:
        ends = await log_end_offsets(bootstrap, topic_names)
        with engine.connect() as conn:
            done = tracked_offsets(conn, ARCHIVE.name) if inspect(conn).has_table("projection_tracking") else {}
        archived = all(done.get(position, -1) >= end - 1 for position, end in ends.items())
        if archived and ends == last_ends:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 1.5:
                return True
        else:
            quiet_since = None
        last_ends = ends
        await asyncio.sleep(0.3)
    return False
