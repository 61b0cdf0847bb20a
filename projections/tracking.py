"""Exactly-once bookkeeping, written in the same transaction as the view rows.

The technique of eventsourcing's tracking recorders: the position a projection has consumed up to
(topic, partition, offset) is a row beside the views, so a crash either keeps both or neither.
Duplicate event ids (the pipeline is at-least-once and re-emits the same ids) are remembered per
projection and dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from projections.rows import upsert
from projections.schema import seen_events, tracking

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
    """Remember `event_ids` for `projection`; return those it had not seen before.

    One INSERT .. ON CONFLICT DO NOTHING RETURNING: the check and the remembering are the same statement,
    so its cost does not grow with the table (a SELECT .. IN on it did, on PostgreSQL).
    """
    wanted = sorted(set(event_ids))
    if not wanted:
        return set()
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(seen_events).on_conflict_do_nothing().returning(seen_events.c.event_id)
    rows = [{"projection": projection, "event_id": event_id} for event_id in wanted]
    return set(conn.execute(statement, rows).scalars())
