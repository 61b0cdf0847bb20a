"""Rebuild a view from the history archive into a fresh database, through the same batch step as live."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from projections import archive as history
from projections.archive import Record
from projections.projector import Projection, apply_records, prepare_views
from projections.tracking import Position


@dataclass(frozen=True)
class ReplayResult:
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


def replay(
    source: Connection,
    target: Engine,
    projection: Projection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
    upto: Mapping[Position, int] | None = None,
) -> ReplayResult:
    """Apply the archived messages of `projection`'s topics (time in [since, until]; with `upto`, only those at or
    before these offsets, none of a partition it does not name) to `target`.

    Each batch is one transaction that also records the positions, so the rebuilt database can be
    handed to the live runner, which carries on from where the archive ended.
    """
    with target.begin() as conn:
        prepare_views(conn, projection)
    started = time.perf_counter()
    read = 0
    filters = {"since": since, "until": until, "topic_suffixes": projection.topics}
    for records in _batches(source, batch, upto, filters):
        with target.begin() as conn:
            apply_records(conn, projection, records)
        read += len(records)
        if progress:
            progress(len(records))
    return ReplayResult(events=read, seconds=time.perf_counter() - started)


def apply_archived(
    source: Connection,
    conn: Connection,
    projection: Projection,
    *,
    after: Mapping[Position, int],
    upto: Mapping[Position, int],
    batch: int = 5000,
) -> int:
    """Apply the archived records of `projection` past `after` and up to `upto`, partition by partition, in the
    caller's transaction on `conn`; return how many events changed the views."""
    applied = 0
    for (topic, partition), last in sorted(upto.items()):
        first = after.get((topic, partition), -1) + 1
        for start in range(first, last + 1, batch):
            records = history.records_between(source, topic, partition, start, min(start + batch - 1, last))
            applied += apply_records(conn, projection, records)
    return applied


def _batches(
    source: Connection, batch: int, upto: Mapping[Position, int] | None, filters: dict[str, Any]
) -> Iterator[list[Record]]:
    for records in history.iter_records(source, batch=batch, **filters):
        if upto is not None:
            records = [r for r in records if r.offset <= upto.get((r.topic, r.partition), -1)]
        if records:
            yield records
