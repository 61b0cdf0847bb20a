"""Rebuild a view from the history archive into a fresh database, through the same batch step as live."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from projections import archive as history
from projections.projector import Projection, apply_records, prepare_views


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
) -> ReplayResult:
    """Apply the archived messages of `projection`'s topics (time in [since, until]) to `target`.

    Each batch is one transaction that also records the positions, so the rebuilt database can be
    handed to the live runner, which carries on from where the archive ended.
    """
    with target.begin() as conn:
        prepare_views(conn, projection)
    started = time.perf_counter()
    read = 0
    filters = {"since": since, "until": until, "topic_suffixes": projection.topics}
    for records in history.iter_records(source, batch=batch, **filters):
        with target.begin() as conn:
            apply_records(conn, projection, records)
        read += len(records)
        if progress:
            progress(len(records))
    return ReplayResult(events=read, seconds=time.perf_counter() - started)
