"""Projections: which topics each one reads, and the one-transaction batch step they all share.

`apply_records` is the heart of exactly-once: inside the caller's transaction it skips what the
tracking table says is done, drops duplicate event ids, folds the rest into the views and records the
new positions. The Kafka runner and the replay from the archive both call it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Table, delete, inspect, select

from events import Event, EventData, topics
from projections import archive as history
from projections.archive import Record, decoded
from projections.inventory import apply_inventory_batch
from projections.orders import apply_order_batch
from projections.rows import upsert
from projections.schema import (
    archive,
    create_tables,
    customers,
    inventory,
    metadata,
    order_timeline,
    orders,
    sales_daily,
    seen_events,
    tracking,
    view_schemas,
)
from projections.timeline import TIMELINE_TOPICS, Positioned, record_timeline
from projections.tracking import Position, first_sightings, record_offsets, tracked_offsets

Decoded = tuple[Record, Event[EventData] | None]
NewIds = Callable[[Connection, str, Sequence[Decoded]], set[str]]


def remembered_in_seen_events(conn: Connection, projection: str, items: Sequence[Decoded]) -> set[str]:
    """The ids in `items` that `projection` has not seen, now remembered in the shared seen-events table."""
    return first_sightings(conn, projection, [str(event.id) for _, event in items if event is not None])


def written_to_timeline(conn: Connection, _projection: str, items: Sequence[Decoded]) -> set[str]:
    """The orders projection's own timeline, keyed by event id, tells which ids are new as it takes them."""
    return record_timeline(conn, [Positioned(r.topic, r.partition, r.offset, e) for r, e in items if e is not None])


@dataclass(frozen=True)
class Projection:
    name: str
    group: str
    topics: tuple[str, ...]
    tables: tuple[Table, ...]
    apply: Callable[[Connection, Sequence[Decoded]], None]
    # How redelivered events are told from new ones (None: every event counts, as in the archive).
    new_ids: NewIds | None = remembered_in_seen_events
    # The layout of its tables: views written by another version are dropped and rebuilt from the log.
    schema_version: int = 1


def _apply_orders(conn: Connection, items: Sequence[Decoded]) -> None:
    apply_order_batch(
        conn,
        [Positioned(r.topic, r.partition, r.offset, e) for r, e in items if e is not None],
    )


def _apply_inventory(conn: Connection, items: Sequence[Decoded]) -> None:
    apply_inventory_batch(conn, [event for _, event in items if event is not None])


ORDERS = Projection(
    name="orders",
    group="order_projector",
    topics=TIMELINE_TOPICS,
    tables=(orders, order_timeline, customers, sales_daily),
    apply=_apply_orders,
    new_ids=written_to_timeline,
    schema_version=2,  # 2: the ledger, parcels, returns, refusals on the timeline, a customer per walk-in
)
INVENTORY = Projection(
    name="inventory",
    group="inventory_projector",
    topics=(topics.INVENTORY, topics.DEADLETTER),  # dead letters undo refused adjustments
    tables=(inventory,),
    apply=_apply_inventory,
)
ARCHIVE = Projection(
    name="archive",
    group="history_archiver",
    topics=(*topics.PUBLIC_TOPICS, topics.ORDER_REPLIES),
    tables=(archive,),
    apply=history.append,
    new_ids=None,  # the archive keeps the log as it was, redeliveries and all
)

PROJECTIONS: dict[str, Projection] = {p.name: p for p in (ORDERS, INVENTORY, ARCHIVE)}
VIEWS: dict[str, Projection] = {"orders": ORDERS, "timeline": ORDERS, "customers": ORDERS, "analytics": ORDERS}
VIEWS["inventory"] = INVENTORY


class UnknownProjection(LookupError):
    pass


def projection_named(name: str) -> Projection:
    """The projection that builds the view `name` (orders, timeline, customers, analytics, inventory, archive)."""
    found = VIEWS.get(name) or PROJECTIONS.get(name)
    if found is None:
        known = ", ".join(sorted({*VIEWS, *PROJECTIONS}))
        raise UnknownProjection(f"unknown view {name!r}; one of: {known}")
    return found


def prepare_views(conn: Connection, projection: Projection) -> bool:
    """Create `projection`'s tables if missing. Tables another schema version wrote are dropped first, with the
    projection's positions, so the runner reads its topics from the start and rebuilds the views from the log
    (the log is the truth; `oms replay` rebuilds from the archive instead). True when it dropped them."""
    create_tables(conn, ())
    stored = conn.execute(select(view_schemas.c.version).where(view_schemas.c.projection == projection.name))
    version = stored.scalar_one_or_none()
    if version is None and _holds_views(conn, projection):
        version = 1  # written before the views recorded their schema version
    outdated = version is not None and version != projection.schema_version
    if outdated:
        metadata.drop_all(conn, tables=list(projection.tables), checkfirst=True)
        for table in (tracking, seen_events):
            conn.execute(delete(table).where(table.c.projection == projection.name))
    create_tables(conn, projection.tables)
    upsert(conn, view_schemas, [{"projection": projection.name, "version": projection.schema_version}])
    return outdated


def _holds_views(conn: Connection, projection: Projection) -> bool:
    present = inspect(conn)
    return bool(tracked_offsets(conn, projection.name)) or any(present.has_table(t.name) for t in projection.tables)


def apply_records(conn: Connection, projection: Projection, records: Sequence[Record]) -> int:
    """Apply `records` (log order within each partition) in the caller's transaction; return how many
    events changed the views (after skipping what was already applied and duplicate ids)."""
    done = tracked_offsets(conn, projection.name)
    fresh = [r for r in records if r.offset > done.get((r.topic, r.partition), -1)]
    if not fresh:
        return 0
    items = [(record, decoded(record.value)) for record in fresh]
    if projection.new_ids is not None:
        items = _first_sightings(items, projection.new_ids(conn, projection.name, items))
    projection.apply(conn, items)
    record_offsets(conn, projection.name, _last_offsets(fresh))
    return len(items)


def _first_sightings(items: list[Decoded], new: set[str]) -> list[Decoded]:
    kept: list[Decoded] = []
    for record, event in items:
        if event is not None and str(event.id) in new:
            new.discard(str(event.id))  # a redelivery inside the batch: the first one counts
            kept.append((record, event))
    return kept


def _last_offsets(records: Sequence[Record]) -> dict[Position, int]:
    last: dict[Position, int] = {}
    for record in records:
        position = (record.topic, record.partition)
        last[position] = max(last.get(position, -1), record.offset)
    return last
