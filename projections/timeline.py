"""The order timeline: one row per event of an order, in plain words, and the requests the processor refused.

The timeline is keyed by event id, so inserting into it is also the orders projection's check for redelivered
events. Requests (a payment report, a cancellation, a change, a return) are shown as asked; when the processor
refuses one, its `oms.order.request_refused` marks that request's row refused, with the code and the reason. A
record the order processor dead-lettered is marked the same way, with the dead letter's kind and reason, and
`dead_lettered`: such a row does not hold its event id (see `record_timeline`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select, update

from events import (
    Event,
    EventData,
    NotificationRequested,
    NotificationSent,
    OrderAwaitingPayment,
    OrderBackorderCleared,
    OrderBackordered,
    OrderCancelled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderChanged,
    OrderChangeRequested,
    OrderConfirmed,
    OrderDelivered,
    OrderHandedOver,
    OrderPaid,
    OrderPaymentExpired,
    OrderPlaced,
    OrderRequestRefused,
    OrderShipped,
    PaymentCaptureRequested,
    PaymentHoldExpired,
    PaymentRecorded,
    PaymentVoidRequested,
    RefundIssued,
    ReturnAuthorized,
    ReturnInspected,
    ReturnReceived,
    ReturnRecorded,
    ReturnRequested,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentRequested,
    topics,
)
from projections.money import text
from projections.rows import Row, insert_new, inserted_or_taken_over
from projections.tables import order_timeline

TIMELINE_TOPICS = (topics.ORDERS, topics.SHIPMENTS, topics.NOTIFICATIONS)
LEGACY_REFUSAL_CODE = "too_late_to_cancel"


@dataclass(frozen=True)
class Positioned:
    """An event with where it sat on the log."""

    topic: str
    partition: int
    offset: int
    event: Event[EventData]

    @property
    def position(self) -> tuple[str, int, int]:
        return (self.topic, self.partition, self.offset)


def _lines(lines: Iterable[Any]) -> str:
    return ", ".join(f"{line.qty} x {line.sku}" for line in lines)


def _money(value: Any, currency: str | None = None) -> str:
    return f"{text(value)} {currency}" if currency else text(value)


def _due(d: OrderAwaitingPayment) -> str:
    owed = f"{_money(d.amount_due)} due" if d.amount_due is not None else "the total due"
    return f"awaiting payment: {owed}" + (f" by {d.payment_due_at.isoformat()}" if d.payment_due_at else "")


def _parcel(shipment_id: str | None) -> str:
    return f"parcel {shipment_id}" if shipment_id else "order"


def _payment_report(d: OrderPaid) -> str:
    named = f" ({d.payment_id})" if d.payment_id else ""
    method = f" by {d.method}" if d.method else ""
    return f"payment reported{named}: {d.kind} {_money(d.amount, d.currency)} in all{method}"


_SUMMARIES: dict[type[EventData], Callable[[Any], str]] = {
    OrderPlaced: lambda d: (
        f"placed via {d.channel}: {_lines(d.lines)}, {_money(d.total(), d.currency)} ({d.payment_status})"
    ),
    OrderPaid: _payment_report,
    OrderCancelRequested: lambda d: f"cancellation requested: {d.reason}",
    OrderChangeRequested: lambda d: (
        "change requested: "
        + ", ".join([*(f"{c.sku} to {c.qty}" for c in d.lines), *(["new address"] if d.shipping_address else [])])
    ),
    ReturnRequested: lambda d: f"return requested: {_lines(d.lines)} ({d.reason})",
    ReturnReceived: lambda d: f"return received at the warehouse: {_lines(d.lines)}",
    ReturnInspected: lambda d: (
        f"return {d.rma} inspected: {_lines(d.resellable)} resellable, {_lines(d.unsellable) or 'none'} not"
    ),
    OrderAwaitingPayment: _due,
    OrderPaymentExpired: lambda d: "payment deadline passed",
    OrderBackordered: lambda d: (
        f"backordered: {_lines(d.lines)}" + (f", eta {d.eta.date().isoformat()}" if d.eta else ", eta unknown")
    ),
    OrderBackorderCleared: lambda d: f"stock came in for {', '.join(d.skus)}",
    OrderConfirmed: lambda d: "confirmed: reserved and paid for",
    OrderChanged: lambda d: f"changed ({d.reason}): now {_lines(d.lines)}, total {_money(d.total)}",
    OrderCancelled: lambda d: f"cancelled: {d.reason}",
    OrderCancelRejected: lambda d: f"cancellation refused: {d.reason}",
    OrderRequestRefused: lambda d: f"refused {d.refused_type} ({d.code}): {d.reason}",
    OrderShipped: lambda d: f"parcel {d.shipment_id} left with {d.carrier}, tracking {d.tracking_number}",
    OrderDelivered: lambda d: f"{_parcel(d.shipment_id)} delivered at {d.delivered_at.isoformat()}",
    OrderHandedOver: lambda d: f"handed over at the till: {_lines(d.lines)}",
    PaymentRecorded: lambda d: (
        f"payment {d.payment_id} counted: {d.kind} {_money(d.amount, d.currency)}; "
        f"captured {_money(d.captured)}, refunded {_money(d.refunded)}, due {_money(d.balance_due)}"
    ),
    RefundIssued: lambda d: (
        f"refunded {_money(d.amount, d.currency)} to {d.payment_id or 'the customer'} ({d.cause}): {d.reason}"
    ),
    PaymentCaptureRequested: lambda d: f"capture of {_money(d.amount, d.currency)} asked of {d.payment_id}",
    PaymentVoidRequested: lambda d: f"authorization {d.payment_id} released: {_money(d.amount, d.currency)}",
    PaymentHoldExpired: lambda d: "payments waited for an order that never came: refunded",
    ReturnAuthorized: lambda d: f"return {d.rma} authorized: {_lines(d.lines)} ({d.reason})",
    ReturnRecorded: lambda d: f"return {d.rma} taken back: {_lines(d.lines)}" + (" (inspected)" if d.inspected else ""),
    ShipmentRequested: lambda d: f"shipment {d.shipment_id} requested: {_lines(d.lines)}",
    ShipmentDispatched: lambda d: f"shipment {d.shipment_id} dispatched with {d.carrier}, tracking {d.tracking_number}",
    ShipmentDelivered: lambda d: f"carrier reported delivery of {d.tracking_number}",
    NotificationRequested: lambda d: f"notification '{d.kind}' requested for {d.recipient}",
    NotificationSent: lambda d: f"notification '{d.kind}' sent by {d.notifier}: {d.subject}",
}


def has_summary(event: Event[EventData]) -> bool:
    return type(event.data) in _SUMMARIES


def summary_of(event: Event[EventData]) -> str:
    describe = _SUMMARIES.get(type(event.data))
    return (describe(event.data) if describe else event.type)[:500]


def timeline_row(item: Positioned) -> Row:
    return {
        "event_id": str(item.event.id),
        "order_id": item.event.data.partition_key(),
        "topic": item.topic,
        "partition": item.partition,
        "offset": item.offset,
        "type": item.event.type,
        "time": item.event.time,
        "summary": summary_of(item.event),
        "refusal_code": None,
        "refusal_reason": None,
        "dead_lettered": False,
        "actor": item.event.actor,
    }


def record_timeline(conn: Connection, items: Sequence[Positioned]) -> set[str]:
    """Add the timeline rows of `items` that are not there yet; return their event ids.

    The timeline is keyed by event id, so this is also the orders projection's check for redelivered events:
    a second table of seen ids would be another index of the same random keys, and it was half of what the
    projector wrote to disk (3.5 of 6.6 GB in a 30,000-order `oms bench`). A row of a dead-lettered record does not
    hold its id: the next record with that id takes its place (the processor never applied the first one).
    """
    rows = [timeline_row(item) for item in items if item.event.data.topic in TIMELINE_TOPICS]
    return inserted_or_taken_over(conn, order_timeline, rows, "event_id", order_timeline.c.dead_lettered)


def record_dead_lettered(conn: Connection, refused: Sequence[tuple[Positioned, str, str]]) -> None:
    """Timeline rows for records the order processor dead-lettered, each (record, kind, reason), marked so; unless
    their event id is on the timeline already."""
    rows = [
        timeline_row(item) | {"refusal_code": kind[:40], "refusal_reason": reason[:500], "dead_lettered": True}
        for item, kind, reason in refused
        if item.event.data.topic in TIMELINE_TOPICS
    ]
    insert_new(conn, order_timeline, rows)


def step_at(conn: Connection, position: tuple[str, int, int]) -> Row | None:
    """The timeline row of the record at `position`, unless it is marked dead-lettered already; None when none is
    there (the record was a redelivered id, or is not on the timeline)."""
    topic, partition, offset = position
    t = order_timeline.c
    at = and_(t.topic == topic, t.partition == partition, t.offset == offset, t.dead_lettered.is_(False))
    found = conn.execute(select(order_timeline).where(at)).mappings().first()
    return dict(found) if found is not None else None


def mark_dead_lettered(conn: Connection, event_id: str, kind: str, reason: str) -> None:
    conn.execute(
        update(order_timeline)
        .where(order_timeline.c.event_id == event_id)
        .values(refusal_code=kind[:40], refusal_reason=reason[:500], dead_lettered=True)
    )


def move_step(conn: Connection, item: Positioned) -> None:
    """The timeline row of `item`'s event id is now the row of `item` (another record with that id)."""
    conn.execute(
        update(order_timeline).where(order_timeline.c.event_id == str(item.event.id)).values(timeline_row(item))
    )


def refusal_of(event: Event[EventData]) -> tuple[str, str, str] | None:
    """(refused request's event id, code, reason) when `event` refuses a request. The request is always earlier
    on the same partition (the processor answers it), so its timeline row is there to be marked."""
    data = event.data
    if isinstance(data, OrderRequestRefused):
        return data.refused_event_id, data.code, data.reason
    if isinstance(data, OrderCancelRejected) and event.causationid:  # written before the refusals were one type
        return event.causationid, LEGACY_REFUSAL_CODE, data.reason
    return None


def mark_refused(conn: Connection, events: Sequence[Event[EventData]]) -> None:
    """Mark each refused request's timeline row with the refusal's code and reason."""
    for event in events:
        refusal = refusal_of(event)
        if refusal is None:
            continue
        request_id, code, reason = refusal
        conn.execute(
            update(order_timeline)
            .where(order_timeline.c.event_id == request_id, order_timeline.c.order_id == event.data.partition_key())
            .values(refusal_code=code, refusal_reason=reason[:500])
        )
