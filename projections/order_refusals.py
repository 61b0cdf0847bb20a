"""A placement the order processor dead-lettered is no order; the orders view takes it back.

The placement is the one input the orders view applies before the processor answered it (everything else it folds
is a decision of the processor, which never dead-letters its own decisions), so the one it may have to take back: a
placement the order processor dead-lettered (its key or partition is not the order's, it is too large) never
became an order. Which to choose, drop the row or keep it marked refused? Ops read the orders view as "orders we
have to fulfil": counts by status, revenue, stuck orders, a customer's orders. A refused placement is none of
those; kept, every one of those figures would have to leave it out by hand. So the row goes, with its sales and its
count in the customer's orders, and what ops need to find it is kept where they look for an order's story: its
timeline row stays, marked with the dead letter's kind and reason (`oms history`, the API's timeline, the dashboard's
"Refused, nothing changed"). Any record the processor dead-lettered is marked so on the timeline.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete

from events import (
    EventData,
    OrderCancelRequested,
    OrderChangeRequested,
    OrderPaid,
    OrderPaymentExpired,
    OrderPlaced,
    PaymentHoldExpired,
    RefundReported,
    ReturnInspected,
    ReturnReceived,
    ReturnRequested,
    ShipmentDelivered,
    ShipmentDispatched,
)
from projections.customers import refresh_customers
from projections.refusals import Refusal, Refused, next_copy
from projections.rows import Row, load_rows
from projections.sales import SalesKey, sales_taken_back, write_sales
from projections.tables import orders
from projections.timeline import mark_dead_lettered, move_step, record_dead_lettered, step_at

ORDER_PROCESSOR = "orders"
"""Whose dead letters the view leaves out (`DeadLetterRecorded.processor`)."""
ORDER_INPUTS: tuple[type[EventData], ...] = (
    OrderPlaced,
    OrderPaid,
    RefundReported,
    OrderCancelRequested,
    OrderChangeRequested,
    OrderPaymentExpired,
    PaymentHoldExpired,
    ReturnRequested,
    ReturnReceived,
    ReturnInspected,
    ShipmentDispatched,
    ShipmentDelivered,
)
"""What the order processor takes on the folded topics, and so may dead-letter (its own decisions it passes over)."""


def undo_refused_orders(conn: Connection, projection: str, refusals: Sequence[Refusal]) -> None:
    """The timeline rows of records the order processor dead-lettered after the view took them are marked with the
    dead letter's kind and reason, and a placement among them is no order (`unplace`); unless another record with
    its id came meanwhile (dropped then as a redelivery), which is the one the processor took: the timeline row is
    that record's now, and the order stays. Nothing else it may refuse changed a row (see `ROW_EVENTS`)."""
    placements = []
    for refusal in refusals:
        step = step_at(conn, refusal.position)
        if step is None:
            continue
        copy = next_copy(conn, projection, step["event_id"])
        if copy is not None:
            move_step(conn, copy)
            continue
        mark_dead_lettered(conn, step["event_id"], refusal.kind, refusal.reason)
        if step["type"] == OrderPlaced.event_type:
            placements.append((step["order_id"], step["event_id"]))
    unplace(conn, placements)


def set_aside_orders(conn: Connection, refused: Sequence[Refused]) -> None:
    """A record met after its dead letter is on the timeline, marked with the kind and reason, and folded nowhere."""
    record_dead_lettered(conn, [(item, refusal.kind, refusal.reason) for item, refusal in refused])


def unplace(conn: Connection, placements: Sequence[tuple[str, str]]) -> None:
    """Take back each (order id, placement event id) the processor dead-lettered: when that placement made the row
    an order, the row goes, its sales are taken back and its customer no longer counts it. (Nothing else can have
    been folded into it: the processor decides nothing about an order it never took.)"""
    current = load_rows(conn, orders, {(order_id,) for order_id, _ in placements})
    gone = [
        row
        for order_id, event_id in placements
        if (row := current.get((order_id,))) is not None and row["placed_event_id"] == event_id
    ]
    if not gone:
        return
    conn.execute(delete(orders).where(orders.c.order_id.in_([row["order_id"] for row in gone])))
    sales: dict[SalesKey, list[Row]] = {}
    for row in gone:
        for day, delta in sales_taken_back(row):
            sales.setdefault(day, []).append(delta)
    write_sales(conn, sales)
    refresh_customers(conn, {row["customer_key"] for row in gone if row["customer_key"]})
