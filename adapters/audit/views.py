"""Every view row equals the fold of the log at the positions the view says it has consumed.

The tracking positions and the view rows are read in one read transaction, so they belong together even
while a projector writes. The log up to those positions is folded with the projections' own batch step
(`projections.projector.apply_records`, the one the live runner and `oms replay` use) into a fresh
in-memory SQLite, and the two are compared row by row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table, inspect
from sqlalchemy.pool import StaticPool

from adapters.audit.findings import VIEW_MATCHES_LOG, Logged, Violation, evidence_of
from adapters.sql.engines import engine_for
from events import EventData, OrderPlaced
from projections.archive import Record
from projections.customers import customer_key_of
from projections.projector import INVENTORY, ORDERS, Projection, apply_records
from projections.rows import Row, chunks, key_of, table_rows
from projections.tables import create_tables, tracking
from projections.tracking import Position, tracked_offsets

VIEW_PROJECTIONS: tuple[Projection, ...] = (ORDERS, INVENTORY)
FOLD_BATCH = 5000
EVIDENCE_KEPT = 12
"""The latest events behind a differing row that are shown with it."""


class ViewsUnavailable(RuntimeError):
    """The views database holds no projection positions: no projector has written to it."""


@dataclass(frozen=True)
class ViewSnapshot:
    """What the views said at one instant: each projection's consumed positions, and every row per table."""

    positions: dict[str, dict[Position, int]]
    rows: dict[str, list[Row]]


@contextlib.contextmanager
def snapshot_connection(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one committed state, until it is closed."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            # pysqlite opens no transaction for a SELECT, so every read would see the latest commit; an explicit
            # BEGIN makes them one read transaction, which WAL keeps on one snapshot while the projector writes.
            conn.exec_driver_sql("BEGIN")
            try:
                yield conn
            finally:
                conn.rollback()
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def read_view_snapshot(engine: Engine, projections: Sequence[Projection] = VIEW_PROJECTIONS) -> ViewSnapshot:
    with snapshot_connection(engine) as conn:
        present = set(inspect(conn).get_table_names())
        if tracking.name not in present:
            raise ViewsUnavailable(f"no projection positions in {engine.url!r}: has a projector run against it?")
        positions = {projection.name: tracked_offsets(conn, projection.name) for projection in projections}
        rows = {
            table.name: table_rows(conn, table) if table.name in present else []
            for projection in projections
            for table in projection.tables
        }
    return ViewSnapshot(positions, rows)


def folded_views(
    records: Sequence[Record], positions: Mapping[str, Mapping[Position, int]], projections: Sequence[Projection]
) -> dict[str, list[Row]]:
    """The rows each projection has after folding `records` (log order per partition) up to its positions."""
    engine = engine_for("sqlite://", poolclass=StaticPool)
    try:
        for projection in projections:
            applied = positions.get(projection.name, {})
            mine = [record for record in records if record.offset <= applied.get((record.topic, record.partition), -1)]
            with engine.begin() as conn:
                create_tables(conn, projection.tables)
            for part in chunks(mine, FOLD_BATCH):
                with engine.begin() as conn:
                    apply_records(conn, projection, part)
        with engine.connect() as conn:
            return {table.name: table_rows(conn, table) for projection in projections for table in projection.tables}
    finally:
        engine.dispose()


def view_differences(
    snapshot: ViewSnapshot,
    folded: Mapping[str, list[Row]],
    log: Sequence[Logged],
    projections: Sequence[Projection] = VIEW_PROJECTIONS,
) -> list[Violation]:
    """One violation per row that is in the view and not in the fold, in the fold and not in the view, or in
    both with other values; with the latest events behind it (those the view has consumed)."""
    behind = _events_by_subject(log, snapshot.positions)
    violations: list[Violation] = []
    for projection in projections:
        for table in projection.tables:
            violations += _table_differences(table, snapshot.rows.get(table.name, []), folded[table.name], behind)
    return violations


def _table_differences(
    table: Table, in_view: list[Row], in_log: list[Row], behind: Mapping[str, list[Logged]]
) -> list[Violation]:
    view_rows = {key_of(table, row): row for row in in_view}
    log_rows = {key_of(table, row): row for row in in_log}
    differing = [key for key in {*view_rows, *log_rows} if view_rows.get(key) != log_rows.get(key)]
    return [
        _row_differs(table, key, view_rows.get(key), log_rows.get(key), behind) for key in sorted(differing, key=repr)
    ]


def _row_differs(
    table: Table, key: tuple[Any, ...], view: Row | None, log: Row | None, behind: Mapping[str, list[Logged]]
) -> Violation:
    shown_key = "/".join(str(part) for part in key)
    if view is None or log is None:
        where = "the log's fold, not in the view" if view is None else "the view, not in the log's fold"
        message = f"{table.name} row {shown_key} is in {where}"
        details: dict[str, Any] = {"view": jsonable(view), "log": jsonable(log)}
    else:
        columns = [str(name) for name in log if view.get(name) != log[name]]  # (SQLAlchemy's names subclass str)
        shown = ", ".join(f"{name}: view {view.get(name)!r}, log {log[name]!r}" for name in columns)
        message = f"{table.name} row {shown_key} differs from the log's fold: {shown}"
        details = {name: {"view": jsonable(view.get(name)), "log": jsonable(log[name])} for name in columns}
    events = behind.get(_subject_of(table, key, view or log or {}), [])[-EVIDENCE_KEPT:]
    return Violation(
        VIEW_MATCHES_LOG, f"{table.name} {shown_key}", message, tuple(evidence_of(item) for item in events), details
    )


def _subject_of(table: Table, key: tuple[Any, ...], row: Row) -> str:
    """Under which name `_events_by_subject` keeps the events that made the row."""
    if table.name == "order_timeline":
        return f"id:{key[0]}"
    if table.name == "customers":
        return f"customer:{key[0]}"
    if table.name == "sales_daily":
        return "sales:" + "/".join(str(part) for part in key)
    return str(row.get("order_id") or row.get("sku") or "")


def _events_by_subject(
    log: Sequence[Logged], positions: Mapping[str, Mapping[Position, int]]
) -> dict[str, list[Logged]]:
    consumed: dict[Position, int] = {}
    for offsets in positions.values():
        consumed.update(offsets)
    found: dict[str, list[Logged]] = {}
    for item in log:
        if item.offset > consumed.get((item.topic, item.partition), -1):
            continue
        found.setdefault(item.event.subject, []).append(item)
        found.setdefault(f"id:{item.event.id}", []).append(item)
        for name in _row_names(item.event.data):
            found.setdefault(name, []).append(item)
    return found


def _row_names(data: EventData) -> list[str]:
    """The customer and the daily sales rows a placement counts in (see `_subject_of`)."""
    if not isinstance(data, OrderPlaced):
        return []
    day = data.placed_at.date().isoformat()
    sales = [f"sales:{day}/{data.channel}/{line.sku}/{data.currency}" for line in data.lines]
    return [f"customer:{customer_key_of(data.customer.email, data.order_id)}", *sales]


def jsonable(value: Any) -> Any:
    """A view value as JSON can carry it (times and dates ISO 8601, decimals as strings)."""
    if isinstance(value, dict):
        return {str(name): jsonable(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value
