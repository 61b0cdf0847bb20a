"""Projections: which topics each one reads, and the one-transaction batch step they all share.

`apply_records` is the heart of exactly-once: inside the caller's transaction it skips what the
tracking table says is done, drops duplicate event ids, folds the rest into the views and records the
new positions. The Kafka runner and the replay from the archive both call it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Table, delete, inspect, select, text

from events import Event, EventData, topics
from projections import archive as history
from projections import desk, order_refusals
from projections import inventory as stock
from projections import orders as order_view
from projections.archive import Record, decoded
from projections.refusals import RefusalPolicy, refusals_at, remember_copies, remembered
from projections.rows import upsert
from projections.tables import (
    archive,
    create_tables,
    customers,
    desk_effects,
    desk_items,
    desk_retries,
    inventory,
    metadata,
    order_timeline,
    orders,
    refusals,
    refused_copies,
    sales_daily,
    seen_events,
    stock_inputs,
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
    # Whose dead letters name the records the views leave out (None: every record counts, as in the archive).
    refusals: RefusalPolicy | None = None


def _apply_orders(conn: Connection, items: Sequence[Decoded]) -> None:
    order_view.apply_order_batch(conn, _positioned(items))


def _apply_inventory(conn: Connection, items: Sequence[Decoded]) -> None:
    stock.apply_inventory_batch(conn, _positioned(items))


ORDERS = Projection(
    name="orders",
    group="order_projector",
    topics=(*TIMELINE_TOPICS, topics.DEADLETTER),  # the dead letters name the placements that are no order
    tables=(orders, order_timeline, customers, sales_daily),
    apply=_apply_orders,
    new_ids=written_to_timeline,
    # 2: the ledger, parcels, returns, refusals on the timeline, a customer per walk-in; 3: what the order processor
    # dead-lettered is left out (a refused placement is no order), requests touch no row. The timeline's `actor` came
    # later without a new version: no event carried one before, so the column `prepare_views` adds is right as null
    schema_version=3,
    refusals=RefusalPolicy(
        processor=order_refusals.ORDER_PROCESSOR,
        topics=order_view.FOLDED_TOPICS,
        undo=order_refusals.undo_refused_orders,
        set_aside=order_refusals.set_aside_orders,
        may_refuse=order_refusals.ORDER_INPUTS,
    ),
)
INVENTORY = Projection(
    name="inventory",
    group="inventory_projector",
    topics=(topics.INVENTORY, topics.DEADLETTER),  # the dead letters name the records the processor never applied
    tables=(inventory, stock_inputs),
    apply=_apply_inventory,
    schema_version=2,  # 2: every record the inventory processor dead-lettered is left out, not only adjustments
    refusals=RefusalPolicy(
        processor=stock.INVENTORY_PROCESSOR,
        topics=(topics.INVENTORY,),
        undo=stock.undo_refused_stock,
        set_aside=stock.set_aside_stock,
        may_refuse=stock.SUPPLIES,
    ),
)
ARCHIVE = Projection(
    name="archive",
    group="history_archiver",
    topics=(*topics.PUBLIC_TOPICS, topics.ORDER_REPLIES),
    tables=(archive,),
    apply=history.append,
    new_ids=None,  # the archive keeps the log as it was, redeliveries and all
)

DESK = Projection(
    name="desk",
    group="desk_projector",
    topics=topics.PUBLIC_TOPICS,  # dead letters and refusals, and the retries and what the pipeline made of them
    tables=(desk_items, desk_retries, desk_effects),
    apply=desk.apply_desk_batch,
    new_ids=None,  # every row is inserted once by a deterministic key: a redelivered event writes nothing new
)

PROJECTIONS: dict[str, Projection] = {p.name: p for p in (ORDERS, INVENTORY, ARCHIVE, DESK)}
VIEWS: dict[str, Projection] = {"orders": ORDERS, "timeline": ORDERS, "customers": ORDERS, "analytics": ORDERS}
VIEWS["inventory"] = INVENTORY
VIEWS["deadletters"] = DESK


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
        for table in (tracking, seen_events, refusals, refused_copies):
            conn.execute(delete(table).where(table.c.projection == projection.name))
    create_tables(conn, projection.tables)
    for table in projection.tables:  # an index added since the tables were made: made now, the rows unchanged
        _add_missing_columns(conn, table)
        for index in table.indexes:
            index.create(conn, checkfirst=True)
    upsert(conn, view_schemas, [{"projection": projection.name, "version": projection.schema_version}])
    return outdated


def _add_missing_columns(conn: Connection, table: Table) -> None:
    """A nullable column added to a view since its table was made: added now, null in the rows there. Only for a
    column whose null is the truth for every event already applied; anything else needs a new schema version."""
    present = {column["name"] for column in inspect(conn).get_columns(table.name)}
    quoted = conn.dialect.identifier_preparer
    for column in table.columns:
        if column.name not in present and column.nullable:
            kind = column.type.compile(dialect=conn.dialect)
            name = f"{quoted.format_table(table)} ADD COLUMN {quoted.format_column(column)} {kind}"
            conn.execute(text(f"ALTER TABLE {name}"))


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
    if projection.refusals is not None:
        items = _without_refused(conn, projection.name, projection.refusals, items)
    if projection.new_ids is not None:
        kept = _first_sightings(items, projection.new_ids(conn, projection.name, items))
        if projection.refusals is not None and len(kept) < len(items):
            _remember_copies(conn, projection.name, projection.refusals, items, kept)
        items = kept
    projection.apply(conn, items)
    record_offsets(conn, projection.name, _last_offsets(fresh))
    return len(items)


def _without_refused(conn: Connection, projection: str, policy: RefusalPolicy, items: list[Decoded]) -> list[Decoded]:
    """The batch less what the owning processor dead-lettered (in this batch or before), and less events sitting on
    a topic they do not belong to (their topic's reader dead-letters them: no view takes them). Dead letters are
    taken first, whatever their place in the batch: the rows come out the same either way."""
    at_home = [(record, event if event is not None and is_at_home(record, event) else None) for record, event in items]
    letters = policy.refusals_in(event for _, event in at_home if event is not None)
    if new := remembered(conn, projection, letters):
        policy.undo(conn, projection, new)
    owned = [positioned for positioned in _positioned(at_home) if policy.is_owned(positioned.topic)]
    refused = refusals_at(conn, projection, [item.position for item in owned])
    if not refused:
        return at_home
    policy.set_aside(conn, [(item, refused[item.position]) for item in owned if item.position in refused])
    return [(record, event) for record, event in at_home if _position(record) not in refused]


def _remember_copies(
    conn: Connection, projection: str, policy: RefusalPolicy, items: Sequence[Decoded], kept: Sequence[Decoded]
) -> None:
    taken = {_position(record) for record, _ in kept}
    dropped = [item for item in _positioned(items) if item.position not in taken]
    remember_copies(conn, projection, policy, dropped)


def _positioned(items: Sequence[Decoded]) -> list[Positioned]:
    return [Positioned(r.topic, r.partition, r.offset, e) for r, e in items if e is not None]


def _position(record: Record) -> tuple[str, int, int]:
    return (record.topic, record.partition, record.offset)


def is_at_home(record: Record, event: Event[EventData]) -> bool:
    """True when `event` sits on the topic its type belongs to (the topic's name ends with it: after the prefix)."""
    return record.topic.endswith(event.data.topic)


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
