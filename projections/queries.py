"""Read side: plain functions over the views, with filters and pagination.

The HTTP API, the dashboard and the CLI call these with a SQLAlchemy `Connection`. Every function
returns plain dicts (JSON-ready apart from datetimes, dates and money kept as decimal strings).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select

from projections.tables import order_timeline, orders

Row = dict[str, Any]

MAX_LIMIT = 1000
MAX_OFFSET = 2**63 - 1
"""SQLite and PostgreSQL bind 64-bit integers; no view holds that many rows, so a larger offset means the same."""
STAGES: dict[str, tuple[str, str]] = {
    "placed_to_confirmed": ("placed_at", "confirmed_at"),
    "confirmed_to_shipped": ("confirmed_at", "shipped_at"),
    "placed_to_delivered": ("placed_at", "delivered_at"),
}


def _page(query: Select[Any], limit: int, offset: int) -> Select[Any]:
    return query.limit(max(0, min(limit, MAX_LIMIT))).offset(max(0, min(offset, MAX_OFFSET)))


def _rows(conn: Connection, query: Select[Any]) -> list[Row]:
    return [dict(row) for row in conn.execute(query).mappings()]


# --- orders ---------------------------------------------------------------------------------


def _order_filters(
    query: Select[Any],
    status: str | None,
    channel: str | None,
    customer: str | None,
    placed_from: datetime | None,
    placed_to: datetime | None,
) -> Select[Any]:
    if status:
        query = query.where(orders.c.status == status)
    if channel:
        query = query.where(orders.c.channel == channel)
    if customer:
        query = query.where(orders.c.customer_email == customer)
    if placed_from:
        query = query.where(orders.c.placed_at >= placed_from)
    if placed_to:
        query = query.where(orders.c.placed_at < placed_to)
    return query


def list_orders(
    conn: Connection,
    *,
    status: str | None = None,
    channel: str | None = None,
    customer: str | None = None,
    placed_from: datetime | None = None,
    placed_to: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Row]:
    """Orders, newest first. `customer` is an email; the date range is [placed_from, placed_to)."""
    query = _order_filters(select(orders), status, channel, customer, placed_from, placed_to)
    query = query.order_by(orders.c.placed_at.desc(), orders.c.order_id)
    return _rows(conn, _page(query, limit, offset))


def count_orders(
    conn: Connection,
    *,
    status: str | None = None,
    channel: str | None = None,
    customer: str | None = None,
    placed_from: datetime | None = None,
    placed_to: datetime | None = None,
) -> int:
    query = _order_filters(select(func.count()).select_from(orders), status, channel, customer, placed_from, placed_to)
    return int(conn.execute(query).scalar_one())


def get_order(conn: Connection, order_id: str) -> Row | None:
    """One order with its `timeline`, or None."""
    found = conn.execute(select(orders).where(orders.c.order_id == order_id)).mappings().first()
    if found is None:
        return None
    return {**dict(found), "timeline": order_events(conn, order_id)}


def order_events(conn: Connection, order_id: str) -> list[Row]:
    """Every event of an order, in order (time, then log position)."""
    query = (
        select(order_timeline)
        .where(order_timeline.c.order_id == order_id)
        .order_by(order_timeline.c.time, order_timeline.c.topic, order_timeline.c.partition, order_timeline.c.offset)
    )
    return _rows(conn, query)


def refused_placements(conn: Connection, order_id: str) -> list[Row]:
    """The timeline rows of placements of `order_id` the order processor dead-lettered: why it is no order."""
    t = order_timeline.c
    query = select(order_timeline).where(t.order_id == order_id, t.type == "oms.order.placed", t.dead_lettered)
    return _rows(conn, query.order_by(t.time, t.topic, t.partition, t.offset))
