"""One order as typed rows: its row of the orders view with its timeline, why a placement is no order, and the
orders a tracking reference names. (Pages of orders: `order_list_queries`.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Connection, or_, select

from projections.tables import order_timeline, orders

Json = Any
"""A JSON column as the view keeps it (lines, payments, parcels, returns: lists of objects the projection wrote)."""


class TimelineRow(TypedDict):
    """One event of an order, where a refused or dead-lettered request says why."""

    event_id: str
    order_id: str
    topic: str
    partition: int
    offset: int
    type: str
    time: datetime
    summary: str
    refusal_code: str | None
    refusal_reason: str | None
    dead_lettered: bool


class OrderRow(TypedDict):
    """A row of the orders view: money as decimal strings, times timezone-aware UTC."""

    order_id: str
    status: str | None
    channel: str | None
    external_ref: str | None
    customer_key: str | None
    customer_email: str | None
    customer_name: str | None
    customer_language: str | None
    fulfilment: str | None
    capture: str | None
    lines: Json
    total_amount: str | None
    shipping_charge: str | None
    currency: str | None
    payment_status: str | None
    authorized_amount: str | None
    captured_amount: str | None
    refunded_amount: str | None
    refunded_for_goods: str | None
    settling: Json
    balance_due: str | None
    payments: Json
    parcels: Json
    returns: Json
    credited_by: Json
    placed_at: datetime | None
    awaiting_payment_at: datetime | None
    payment_due_at: datetime | None
    paid_at: datetime | None
    backordered_at: datetime | None
    backordered_units: int
    confirmed_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    return_requested_at: datetime | None
    returned_at: datetime | None
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    eta: datetime | None
    cancellation_reason: str | None
    placed_event_id: str | None
    updated_at: datetime | None


class OrderDetailRow(OrderRow):
    timeline: list[TimelineRow]


def get_order(conn: Connection, order_id: str) -> OrderDetailRow | None:
    """One order with its `timeline`, or None.

    The timeline is read first: each statement sees the latest commit (SQLite in WAL mode, PostgreSQL read
    committed), and the projector writes a batch's rows and timeline in one transaction, so the row read after it
    reflects at least every event the timeline shows. Read the other way round, a batch committed in between
    showed a payment on the timeline beside a row that had not counted it yet."""
    timeline = order_events(conn, order_id)
    found = conn.execute(select(orders).where(orders.c.order_id == order_id)).mappings().first()
    if found is None:
        return None
    return cast(OrderDetailRow, {**dict(found), "timeline": timeline})


def order_events(conn: Connection, order_id: str) -> list[TimelineRow]:
    """Every event of an order, in order (time, then log position)."""
    t = order_timeline.c
    query = select(order_timeline).where(t.order_id == order_id).order_by(t.time, t.topic, t.partition, t.offset)
    return [cast(TimelineRow, dict(row)) for row in conn.execute(query).mappings()]


def refused_placements(conn: Connection, order_id: str) -> list[TimelineRow]:
    """The timeline rows of placements of `order_id` the order processor dead-lettered: why it is no order."""
    t = order_timeline.c
    query = select(order_timeline).where(t.order_id == order_id, t.type == "oms.order.placed", t.dead_lettered)
    query = query.order_by(t.time, t.topic, t.partition, t.offset)
    return [cast(TimelineRow, dict(row)) for row in conn.execute(query).mappings()]


def orders_by_reference(conn: Connection, reference: str) -> list[OrderRow]:
    """The orders whose id or external reference is `reference`, by order id."""
    query = select(orders).where(or_(orders.c.order_id == reference, orders.c.external_ref == reference))
    return [cast(OrderRow, dict(row)) for row in conn.execute(query.order_by(orders.c.order_id)).mappings()]
