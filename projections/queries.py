"""The orders list by offset, as the API's `offset` pages (and older scripts) read it: newest first, filtered by
status, channel, customer and dates. Everything else reads through its view's query module (`order_list_queries`
pages by keyset, `order_detail_queries`, `inventory_queries`, `customer_queries`, `sales_queries`,
`analytics_queries`, `overview_queries`), each returning typed rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Select, func, select

from projections.order_detail_queries import OrderRow
from projections.tables import orders

MAX_LIMIT = 1000
MAX_OFFSET = 2**63 - 1
"""SQLite and PostgreSQL bind 64-bit integers; no view holds that many rows, so a larger offset means the same."""


def _page(query: Select[Any], limit: int, offset: int) -> Select[Any]:
    return query.limit(max(0, min(limit, MAX_LIMIT))).offset(max(0, min(offset, MAX_OFFSET)))


def _rows(conn: Connection, query: Select[Any]) -> list[OrderRow]:
    return [cast(OrderRow, dict(row)) for row in conn.execute(query).mappings()]


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
) -> list[OrderRow]:
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
