"""Exactly-once bookkeeping, written in the same transaction as the view rows.

The technique of eventsourcing's tracking recorders: the position a projection has consumed up to
(topic, partition, offset) is a row beside the views, so a crash either keeps both or neither.
Duplicate event ids (the pipeline is at-least-once and re-emits the same ids) are remembered per
projection and dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from projections.rows import inserted_keys, upsert
from projections.tables import seen_events, tracking

Position = tuple[str, int]  # (topic, partition)


def tracked_offsets(conn: Connection, projection: str) -> dict[Position, int]:
    """The last applied offset of each (topic, partition) `projection` has consumed."""
    rows = conn.execute(
        select(tracking.c.topic, tracking.c.partition, tracking.c.offset).where(tracking.c.projection == projection)
    )
    return {(topic, partition): offset for topic, partition, offset in rows}


def record_offsets(conn: Connection, projection: str, offsets: dict[Position, int]) -> None:
    upsert(
        conn,
        tracking,
        [
            {"projection": projection, "topic": topic, "partition": partition, "offset": offset}
            for (topic, partition), offset in sorted(offsets.items())
        ],
    )


def first_sightings(conn: Connection, projection: str, event_ids: Iterable[str]) -> set[str]:
    """Remember `event_ids` for `projection`; return those it had not seen before."""
    rows = [{"projection": projection, "event_id": event_id} for event_id in set(event_ids)]
    return inserted_keys(conn, seen_events, rows, "event_id")
