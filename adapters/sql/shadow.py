"""A shadow of a live view, rebuilt from the history archive beside it up to the live view's own positions, compared
with it row by row, and swapped in on demand.

Where the shadow lives: a SQLite file next to the live one, or a PostgreSQL schema next to the live one. The swap is
one transaction on the live database on both backends: it locks the projection's positions, replaces the rows of
the view's tables (and its bookkeeping: positions, seen ids, refusals) with the shadow's, and applies from the
archive whatever the live view took since the shadow was built, so the live runner carries on where it was. A rename
of prefixed tables would be cheaper but needs the projections to write to table names they do not own (their tables
are fixed SQLAlchemy objects); a copy keeps the live tables, their indexes and grants, and readers see the old rows
or the new ones, never a mix.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, delete, func, insert, select, text

from adapters.sql.engines import drop_schema, engine_for
from projections.projector import Projection
from projections.reconcile import Difference, ViewSnapshot, read_snapshot, view_differences
from projections.replay import apply_archived, replay
from projections.tables import archive, refusals, refused_copies, seen_events, tracking
from projections.tracking import Position, tracked_offsets

BOOKKEEPING = (tracking, seen_events, refusals, refused_copies)  # rows keyed by projection name
SNAPSHOT_ATTEMPTS = 50


class ShadowError(RuntimeError):
    """The shadow cannot be built or swapped now (the archive is behind the live view, the view never ran here)."""


@dataclass(frozen=True)
class Reconciliation:
    projection: str
    differences: list[Difference]
    positions: dict[Position, int]
    events: int  # archived records replayed into the shadow
    seconds: float
    shadow: Engine  # left in place, to read or swap in; the caller disposes of it

    @property
    def shadow_url(self) -> str:
        return self.shadow.url.render_as_string(hide_password=True)


def shadow_engine(live: Engine, projection: str) -> Engine:
    """A fresh, empty place for `projection`'s shadow beside `live`: `<file>.shadow-<view>.sqlite3` next to a SQLite
    file, the schema `<live schema>_shadow_<view>` on PostgreSQL (what a previous run left there is dropped)."""
    url = live.url.render_as_string(hide_password=False)
    if live.dialect.name == "sqlite":
        live_file = Path(live.url.database or "views.sqlite3")
        shadow = live_file.with_name(f"{live_file.stem}.shadow-{projection}.sqlite3")
        for leftover in (shadow, *(shadow.with_name(shadow.name + end) for end in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
        return engine_for(f"sqlite:///{shadow}")
    with live.connect() as conn:
        schema = f"{conn.execute(text('SELECT current_schema()')).scalar_one()}_shadow_{projection}"[:63]
    drop_schema(url, schema)
    return engine_for(url, schema=schema)


def live_snapshot(live: Engine, projection: Projection) -> ViewSnapshot:
    """The live view's rows and positions as of one moment, while its runner keeps applying batches: read until the
    positions are the same before and after the rows (a batch writes rows and positions in one transaction)."""
    for _ in range(SNAPSHOT_ATTEMPTS):
        with live.connect() as conn:
            snapshot = read_snapshot(conn, projection.name, projection.tables)
            if tracked_offsets(conn, projection.name) == snapshot.positions:
                return snapshot
    raise ShadowError(f"the live {projection.name} view moved on during each of {SNAPSHOT_ATTEMPTS} readings")


def reconcile(live: Engine, history: Engine, projection: Projection, *, batch: int = 5000) -> Reconciliation:
    """Build `projection`'s shadow from the archive up to the live view's positions and compare the two."""
    started = time.perf_counter()
    live_view = live_snapshot(live, projection)
    if not live_view.positions:
        raise ShadowError(f"the live database holds no {projection.name} view (no positions tracked)")
    with history.connect() as source:
        _require_archived(source, live_view.positions)
        shadow = shadow_engine(live, projection.name)
        replayed = replay(source, shadow, projection, batch=batch, upto=live_view.positions)
    with shadow.connect() as conn:
        shadow_view = read_snapshot(conn, projection.name, projection.tables)
    differences = view_differences(projection.tables, live_view, shadow_view)
    if shadow_view.positions != live_view.positions:  # the archive has the records; a view at other offsets is a bug
        raise ShadowError(f"the shadow stopped at {shadow_view.positions}, not at {live_view.positions}")
    seconds = time.perf_counter() - started
    return Reconciliation(projection.name, differences, live_view.positions, replayed.events, seconds, shadow)


def swap_in_shadow(live: Engine, shadow: Engine, history: Engine, projection: Projection) -> int:
    """Make the shadow the live view in one transaction on `live`; return the events applied on top of it from the
    archive, to catch up with what the live view had taken since the shadow was built."""
    with live.begin() as conn, shadow.connect() as source, history.connect() as archived:
        current = _locked_positions(conn, projection.name)
        for table in projection.tables:
            conn.execute(delete(table))
            _copy_rows(source, conn, table, select(table))
        for table in BOOKKEEPING:
            conn.execute(delete(table).where(table.c.projection == projection.name))
            _copy_rows(source, conn, table, select(table).where(table.c.projection == projection.name))
        _require_archived(archived, current)
        return apply_archived(archived, conn, projection, after=tracked_offsets(conn, projection.name), upto=current)


def _locked_positions(conn: Connection, projection: str) -> dict[Position, int]:
    """The projection's positions, with every projection's position writes held back until the caller commits."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"LOCK TABLE {tracking.name} IN EXCLUSIVE MODE"))  # readers go on, writers wait
    else:  # SQLite: the first write of a transaction takes the database's write lock
        conn.execute(tracking.update().where(tracking.c.projection == projection).values(offset=tracking.c.offset))
    return tracked_offsets(conn, projection)


def _copy_rows(source: Connection, target: Connection, table: Table, query: Select[Any], chunk: int = 2000) -> None:
    rows = [dict(row) for row in source.execute(query).mappings()]
    for start in range(0, len(rows), chunk):
        target.execute(insert(table), rows[start : start + chunk])


def _require_archived(source: Connection, positions: Mapping[Position, int]) -> None:
    """Refuse to rebuild up to `positions` unless the archive holds every record up to them."""
    query = select(archive.c.topic, archive.c.partition, func.max(archive.c.offset))
    ends = {(t, p): end for t, p, end in source.execute(query.group_by(archive.c.topic, archive.c.partition))}
    behind = sorted(
        f"{t}[{p}] at {ends.get((t, p), -1)} < {o}" for (t, p), o in positions.items() if ends.get((t, p), -1) < o
    )
    if behind:
        raise ShadowError(f"the archive is behind the live view ({', '.join(behind[:5])}): run again once it caught up")
