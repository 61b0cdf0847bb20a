"""The customers view as typed rows: customers most recent first (by channel in SQL), one with their latest orders."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict, cast

from sqlalchemy import ColumnElement, Connection, exists, func, select
from sqlalchemy.dialects.postgresql import JSONB

from projections import order_list_queries as order_list
from projections.order_list_queries import OrderListRow
from projections.tables import customers, orders

MAX_LIMIT = 1000


class CustomerRow(TypedDict):
    """A customer: their email, or `walk-in:<order id>` for a till sale without one; `total_spend` is net money
    (captured less refunded) as a decimal string."""

    customer_key: str
    email: str | None
    anonymous: bool
    name: str | None
    language: str | None
    orders_count: int
    cancelled_count: int
    total_spend: str
    currency: str | None
    first_order_at: datetime | None
    last_order_at: datetime | None
    channels: list[str]


class CustomerDetail(CustomerRow):
    recent_orders: list[OrderListRow]


def _ordered_through(conn: Connection, channel: str) -> ColumnElement[bool]:
    """The customer ordered through `channel` (one of the JSON array `channels`), each backend its way."""
    if conn.dialect.name == "postgresql":
        return customers.c.channels.cast(JSONB).contains([channel])
    each = func.json_each(customers.c.channels).table_valued("value")
    return exists(select(each.c.value).where(each.c.value == channel))


def list_customers(
    conn: Connection, *, channel: str | None = None, limit: int = 50, offset: int = 0
) -> list[CustomerRow]:
    """Customers, most recent order first. `channel` keeps those who ordered through it."""
    query = select(customers).order_by(customers.c.last_order_at.desc(), customers.c.customer_key)
    if channel is not None:
        query = query.where(_ordered_through(conn, channel))
    query = query.limit(max(0, min(limit, MAX_LIMIT))).offset(max(0, offset))
    return [cast(CustomerRow, dict(row)) for row in conn.execute(query).mappings()]


def count_customers(conn: Connection, *, channel: str | None = None) -> int:
    query = select(func.count()).select_from(customers)
    if channel is not None:
        query = query.where(_ordered_through(conn, channel))
    return int(conn.execute(query).scalar_one())


def get_customer(conn: Connection, customer_key: str, recent: int = 10) -> CustomerDetail | None:
    """A customer with their latest `recent` orders (newest first), as the orders list shows them."""
    found = conn.execute(select(customers).where(customers.c.customer_key == customer_key)).mappings().first()
    if found is None:
        return None
    columns = [orders.c[name] for name in order_list.COLUMNS]
    latest = select(*columns).where(orders.c.customer_key == customer_key, orders.c.placed_at.is_not(None))
    latest = latest.order_by(orders.c.placed_at.desc(), orders.c.order_id).limit(max(0, min(recent, MAX_LIMIT)))
    recent_orders = [OrderListRow(**row) for row in conn.execute(latest).mappings()]
    return cast(CustomerDetail, {**dict(found), "recent_orders": recent_orders})
