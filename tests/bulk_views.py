"""Views grown in bulk, for timings only: `ViewSeeder` applies a busy stretch through the projection's apply path (the
rows are what the projection writes), then `copy_orders` copies those orders and their timelines in SQL under new
order ids, and `add_skus` writes inventory rows straight into the view. Applying 100,000 orders one event at a time
takes minutes on a shared 2-core machine; copies cost seconds, and the pages read the same shapes of rows.

What copies do not keep: the customers and sales views count only the applied orders (copies are not re-folded),
and copy n happened n days before its original (`days_apart=0`: at the same times, all in the same 40 minutes).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, case, func, insert, literal, literal_column, select

from projections.tables import UtcDateTime, inventory, order_timeline, orders


def copy_orders(conn: Connection, copies: int, *, days_apart: int = 1) -> None:
    """Adds `copies` copies of every order in the view and of its timeline, order ids suffixed `-c<n>`, copy n with
    every time `n * days_apart` days earlier (0: the same times, every order in the same stretch)."""
    for number in range(1, copies + 1):
        suffix = literal(f"-c{number}")
        back = timedelta(days=number * days_apart)
        _copy(conn, orders, {"order_id": orders.c.order_id + suffix, **_earlier(conn, orders, back)})
        renamed = {
            **_earlier(conn, order_timeline, back),
            "order_id": order_timeline.c.order_id + suffix,
            # event ids are UUIDs (36 characters): a copy's starts with a `z`, which no UUID holds
            "event_id": literal(f"z{number:02d}") + func.substr(order_timeline.c.event_id, 4),
        }
        _copy(conn, order_timeline, renamed)


def _earlier(conn: Connection, table: Table, back: timedelta) -> dict[str, ColumnElement[Any]]:
    """Each time column of `table`, `back` earlier: SQLite's text keeps its microseconds (`datetime()` drops them)."""
    if not back:
        return {}
    moved: dict[str, ColumnElement[Any]] = {}
    for column in table.c:
        if isinstance(column.type, UtcDateTime):
            if conn.dialect.name == "postgresql":
                moved[column.name] = column - literal_column(f"interval '{back.days} days'")
            else:
                shifted = func.datetime(column, f"-{back.days} days").op("||")(func.substr(column, 20))
                moved[column.name] = case((column.is_(None), None), else_=shifted)
    return moved


def _copy(conn: Connection, table: Table, renamed: dict[str, ColumnElement[Any]]) -> None:
    """Copies the applied rows of `table` (not earlier copies), with the `renamed` columns' new values."""
    columns = [renamed.get(column.name, column) for column in table.c]
    query = select(*columns).where(~table.c.order_id.like("%-c%"))
    conn.execute(insert(table).from_select([column.name for column in table.c], query))


def add_skus(conn: Connection, count: int) -> None:
    """`count` skus in the inventory view, a tenth of them low, some waiting for stock."""
    rows: list[dict[str, object]] = [
        {
            "sku": f"BULK-{number:06d}",
            "on_hand": number % 50,
            "reserved": number % 7,
            "available": number % 50 - number % 7,
            "incoming": [],
            "incoming_qty": 0,
            "backorders": {},
            "backordered_qty": 0,
            "reorder_point": 10,
            "reorder_qty": 40,
            "is_low": number % 10 == 0,
            "suggested_reorder_qty": 40 if number % 10 == 0 else 0,
        }
        for number in range(count)
    ]
    conn.execute(insert(inventory), rows)
