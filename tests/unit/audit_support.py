"""A hand-written log for the auditor's tests: events and changelog records at the offsets a broker would
give them, and a clean story of three orders that `oms check` must find nothing wrong with."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import orjson
from sqlalchemy import Engine

from adapters.audit.log import AuditTopics, RawLog
from adapters.audit.report import AuditReport, audit_records
from adapters.audit.views import ViewSnapshot
from adapters.sql.engines import engine_for
from events import (
    Customer,
    Event,
    EventData,
    LineQty,
    NotificationRequested,
    NotificationSent,
    OrderAwaitingPayment,
    OrderCancelled,
    OrderCancelRequested,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    OrderShipped,
    RefundIssued,
    ReturnReceived,
    ShipmentDispatched,
    ShipmentRequested,
    StockCommitted,
    StockReceived,
    StockReleased,
    StockReserved,
    StockReturned,
    caused_by,
    encode,
    new_event,
    topics,
)
from projections.archive import Record
from projections.projector import INVENTORY, ORDERS, apply_records
from projections.tables import create_tables

PREFIX = "a."
TOPICS = AuditTopics(PREFIX)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=1)
TRACKING = "1Z0000000000000001"


class HandLog:
    """Records appended in order, each at the next offset of its topic-partition (partition 0 by default)."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._next: dict[tuple[str, int], int] = {}

    def append(self, topic: str, key: str | None, value: bytes, partition: int = 0) -> Record:
        offset = self._next.get((topic, partition), 0)
        self._next[(topic, partition)] = offset + 1
        record = Record(topic, partition, offset, key, value)
        self.records.append(record)
        return record

    def add(self, *events: Event[EventData], topic: str | None = None) -> Event[EventData]:
        """Append events on their own topics (or all on `topic`); return the last."""
        for event in events:
            self.append(f"{PREFIX}{topic or event.data.topic}", event.subject, encode(event))
        return events[-1]

    def changelog(self, table: str, key: str, offsets: dict[str, int] | None, raw: bytes | None = None) -> None:
        value = raw if raw is not None else orjson.dumps({"s": {}, "o": offsets, "i": []})
        self.append(f"{PREFIX}oms-pipeline-{table}-changelog", key, value)

    def raw(self) -> RawLog:
        ordered = sorted(self.records, key=lambda record: (record.topic, record.partition, record.offset))
        return RawLog(ordered, {}, {})

    def audit(self, snapshot: ViewSnapshot | None = None, *, now: datetime = LATER, grace_s: float = 60) -> AuditReport:
        """What `oms check` reports after reading this log (and the views' snapshot)."""
        return audit_records(self.raw(), snapshot, TOPICS, now=now, grace=timedelta(seconds=grace_s))


def then(cause: Event[EventData], step: str, data: EventData, minutes: float = 0) -> Event[EventData]:
    return caused_by(cause, step, data, source="tests", time=cause.time + timedelta(minutes=minutes))


def inbound(data: EventData, minutes: float = 0) -> Event[EventData]:
    return new_event(data, source="tests", id=uuid.uuid4(), time=T0 + timedelta(minutes=minutes))


def placed(order_id: str, lines: dict[str, int], *, paid: bool = True, minutes: float = 0) -> Event[EventData]:
    data = OrderPlaced(
        order_id=order_id,
        channel="web",
        customer=Customer(email=f"{order_id}@example.com", name="Ada"),
        lines=tuple(OrderLine(sku=sku, qty=qty, unit_price=Decimal("10.00")) for sku, qty in lines.items()),
        currency="EUR",
        payment_status="paid" if paid else "pending",
        placed_at=T0 + timedelta(minutes=minutes),
    )
    return inbound(data, minutes)


def notify(log: HandLog, cause: Event[EventData], order_id: str, kind: str, **params: str) -> Event[EventData]:
    """A notification requested because of `cause`, and sent."""
    request = log.add(
        then(
            cause,
            f"notify:{kind}",
            NotificationRequested(order_id=order_id, kind=kind, recipient="ada@example.com", params=params),  # type: ignore[arg-type]
        )
    )
    sent = NotificationSent(
        order_id=order_id,
        request_id=str(request.id),
        kind=kind,
        notifier="outbox",
        language="en",
        subject=kind,  # type: ignore[arg-type]
    )
    return log.add(then(request, "sent", sent))


def dispatch_of(request: Event[EventData], tracking: str = TRACKING) -> Event[EventData]:
    data = request.data
    assert isinstance(data, ShipmentRequested)
    dispatched = ShipmentDispatched(
        order_id=data.order_id,
        shipment_id=data.shipment_id,
        carrier="ups",
        tracking_number=tracking,
        tracking_url=f"https://www.ups.com/track?tracknum={tracking}",
        lines=data.lines,
    )
    return then(request, "dispatch", dispatched, minutes=1)


def clean_story(log: HandLog) -> dict[str, Event[EventData]]:
    """MUG: 5 received. o-1 (paid, 2 MUG): reserved, confirmed, shipped, one returned and refunded. o-2
    (unpaid, 1 MUG): reserved, then cancelled. Every output with its redelivered twin where the pipeline
    would re-emit one, and the sku's changelog going forward. Returns the events tests refer to."""
    log.add(inbound(StockReceived(sku="MUG", qty=5)))
    first = log.add(placed("o-1", {"MUG": 2}))
    reserved = then(first, "reserve:MUG", StockReserved(sku="MUG", order_id="o-1", qty=2))
    log.add(reserved)
    log.add(reserved, topic=topics.ORDER_REPLIES)
    log.add(reserved)  # re-emitted after a crash: same id, dropped by every consumer
    log.add(then(reserved, "confirmed", OrderConfirmed(order_id="o-1", skus=("MUG",))))
    request = ShipmentRequested(order_id="o-1", shipment_id="o-1-S1", lines=(LineQty(sku="MUG", qty=2),))
    shipment = log.add(then(reserved, "ship:o-1-S1", request))
    notify(log, reserved, "o-1", "confirmed")
    dispatch = log.add(dispatch_of(shipment))
    log.add(dispatch)  # redelivered dispatch, same id
    shipped = OrderShipped(
        order_id="o-1", shipment_id="o-1-S1", carrier="ups", tracking_number=TRACKING, tracking_url="https://x"
    )
    log.add(then(dispatch, "shipped", shipped))
    log.add(then(dispatch, "committed", StockCommitted(sku="MUG", order_id="o-1", qty=2)))
    notify(log, dispatch, "o-1", "shipped", tracking_number=TRACKING)
    back = log.add(inbound(ReturnReceived(order_id="o-1", lines=(LineQty(sku="MUG", qty=1),), resellable=True), 30))
    log.add(then(back, "restock:MUG", StockReturned(sku="MUG", order_id="o-1", qty=1)))
    refund = RefundIssued(order_id="o-1", amount=Decimal("10.00"), currency="EUR", reason="returned goods received")
    log.add(then(back, "refund", refund))
    notify(log, back, "o-1", "refunded", amount="10.00")

    second = log.add(placed("o-2", {"MUG": 1}, paid=False, minutes=2))
    log.add(then(second, "awaiting_payment", OrderAwaitingPayment(order_id="o-2", payment_due_at=LATER)))
    log.add(then(second, "reserve:MUG", StockReserved(sku="MUG", order_id="o-2", qty=1)))
    cancel = log.add(inbound(OrderCancelRequested(order_id="o-2", reason="customer asked"), 5))
    cancelled = log.add(then(cancel, "cancelled", OrderCancelled(order_id="o-2", reason="customer asked")))
    released = StockReleased(sku="MUG", order_id="o-2", qty=1, reason="customer asked", was_reserved=True)
    log.add(then(cancel, "release:MUG", released))
    notify(log, cancelled, "o-2", "cancelled")
    for offset in (0, 2, 5):
        log.changelog("sku_to_stock", "MUG", {f"{PREFIX}oms.inventory:0": offset})
    return {"o-1": first, "o-2": second, "shipment": shipment, "dispatch": dispatch, "back": back}


def views_of(log: HandLog, path: Path) -> Engine:
    """The views as the projector writes them after consuming the whole of `log`."""
    engine = engine_for(f"sqlite:///{path}")
    for projection in (ORDERS, INVENTORY):
        with engine.begin() as conn:
            create_tables(conn, projection.tables)
            apply_records(conn, projection, [r for r in log.raw().records if r.topic.endswith(projection.topics)])
    return engine


def kinds(report: AuditReport) -> list[tuple[str, str]]:
    return [(violation.invariant, violation.subject) for violation in report.violations]
