"""The orders view: a fold of `oms.orders` and `oms.shipments` (the timeline is in `projections.timeline`,
customers in `projections.customers`, daily sales in `projections.sales`).

`evolve_order` is pure: (row before, event) -> row after. It applies the order processor's decisions only
(docs/event-flow.md, "What the views apply"): `ROW_EVENTS`. Requests (`oms.order.paid`,
`oms.order.cancel_requested`, `oms.order.change_requested`, `oms.return.*` inbound, a dispatch or a carrier's
`oms.shipment.delivered`, which the processor may refuse) are on the timeline and change nothing here, not even the
time a row was updated: a request for an order never placed makes no row. The batch step around it loads the rows a
batch touches, folds the batch in memory and writes each changed row once.

The placement is the one input the view applies before the processor answered it, so the one it may have to take
back (`projections.order_refusals`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from events import (
    Event,
    EventData,
    OrderAwaitingPayment,
    OrderBackorderCleared,
    OrderBackordered,
    OrderCancelled,
    OrderChanged,
    OrderConfirmed,
    OrderDelivered,
    OrderHandedOver,
    OrderPlaced,
    OrderShipped,
    PaymentRecorded,
    PaymentVoidRequested,
    RefundIssued,
    ReturnAuthorized,
    ReturnRecorded,
    ShipmentRequested,
    topics,
)
from projections import order_concessions as concessions
from projections import order_ledger as ledger
from projections import order_progress as progress
from projections.customers import as_customer_sees_it, customer_key_of, refresh_customers
from projections.money import text
from projections.rows import Row, load_rows, upsert
from projections.sales import SalesKey, sales_changes, write_sales
from projections.tables import orders
from projections.timeline import Positioned, mark_refused

STATUSES = progress.STATUSES
FOLDED_TOPICS = (topics.ORDERS, topics.SHIPMENTS)
CREDITING_CAUSES = frozenset({"return", "exchange"})
ROW_EVENTS: tuple[type[EventData], ...] = (
    OrderPlaced,
    PaymentRecorded,
    RefundIssued,
    PaymentVoidRequested,
    OrderChanged,
    OrderCancelled,
    OrderAwaitingPayment,
    OrderBackordered,
    OrderBackorderCleared,
    OrderConfirmed,
    OrderHandedOver,
    OrderShipped,
    OrderDelivered,
    ReturnAuthorized,
    ReturnRecorded,
    ShipmentRequested,
)
"""What the orders row is folded from: the placement and the order processor's decisions."""


def is_row_event(event: Event[EventData]) -> bool:
    """True for an event that the orders row is folded from (on its own topic; see `ROW_EVENTS`)."""
    return isinstance(event.data, ROW_EVENTS)


def empty_order(order_id: str) -> Row:
    row: Row = {column.name: None for column in orders.columns}
    row.update(order_id=order_id, lines=[], payments=[], parcels=[], returns=[], credited_by=[], backordered_units=0)
    return row


def evolve_order(before: Row | None, event: Event[EventData]) -> Row:
    """The orders row after `event`. Pure: `before` is not modified."""
    row = dict(before) if before else empty_order(event.data.partition_key())
    money_moved = False
    if event.data.topic == topics.ORDERS:
        money_moved = _apply_money(row, event) or _apply_progress(row, event)
    elif event.data.topic == topics.SHIPMENTS:
        _apply_parcel(row, event.data, event)
    if money_moved and row["placed_at"] is not None:
        concessions.settle(row, event, lambda now: ledger.ledger_of(now).balance)
        row.update(ledger.money_columns(row))  # first: the status reads whether the order is paid for
    row["lines"] = progress.with_waiting_lines(row)
    row["status"] = progress.order_status(row)
    if row["paid_at"] is None and row["payment_status"] in ("paid", "authorized"):
        row["paid_at"] = event.time
    _name_latest_parcel(row)
    # The latest time seen: the view folds two topics whose interleaving differs from run to run.
    row["updated_at"] = max(filter(None, (row["updated_at"], event.time)))
    return row


def _apply_money(row: Row, event: Event[EventData]) -> bool:
    """The placement and the decisions that move money; False when `event` is none of them."""
    data = event.data
    match data:
        case OrderPlaced():
            _place(row, data, str(event.id))
        case PaymentRecorded():
            ledger.record_payment(row, data)
        case RefundIssued():
            ledger.record_refund(row, data)
            if data.cause in CREDITING_CAUSES and data.lines:
                progress.credit_inspected(row, data.lines, event.causationid or str(event.id))
        case PaymentVoidRequested():
            ledger.record_void(row, data)
        case OrderChanged():
            row["lines"] = ledger.changed_lines(row["lines"], data, row["currency"] or "")
        case OrderCancelled():
            row.update(cancelled_at=row["cancelled_at"] or event.time, cancellation_reason=data.reason)
        case _:
            return False
    return True


def _place(row: Row, data: OrderPlaced, event_id: str) -> None:
    if row["placed_at"] is not None:
        return  # the same order placed again changes nothing, as in the processor
    row.update(
        placed_event_id=event_id,
        channel=data.channel,
        external_ref=data.external_ref,
        customer_key=customer_key_of(data.customer.email, data.order_id),
        customer_email=data.customer.email,
        customer_name=data.customer.name,
        customer_language=data.customer.language,
        fulfilment=data.fulfilment,
        capture=data.capture,
        lines=ledger.placed_lines(data),
        shipping_charge=text(data.shipping_charge),
        currency=data.currency,
        placed_at=data.placed_at,
    )
    payment = ledger.placement_payment(data, ledger.charge(row))
    if payment is not None:  # a paid placement is its first capture (no oms.payment.recorded announces it)
        ledger.with_payment(row, payment)


def _apply_progress(row: Row, event: Event[EventData]) -> bool:
    """Parcels, returns and waits; True when `event` credited returned units (what the order costs moved)."""
    data = event.data
    match data:
        case OrderAwaitingPayment():
            row.update(awaiting_payment_at=row["awaiting_payment_at"] or event.time, payment_due_at=data.payment_due_at)
        case OrderBackordered():
            waiting = {line.sku for line in data.lines}
            row["lines"] = [{**line, "backorder_announced": line["sku"] in waiting} for line in row["lines"]]
            row.update(backordered_at=row["backordered_at"] or event.time, eta=data.eta)
            row["backordered_units"] = max(row["backordered_units"] or 0, sum(line.qty for line in data.lines))
        case OrderBackorderCleared():
            progress.with_lines_flagged(row, data.skus, backorder_announced=False)
        case OrderConfirmed():
            row["confirmed_at"] = row["confirmed_at"] or event.time
            progress.with_lines_flagged(row, data.skus, backorder_announced=False)
        case OrderHandedOver():
            handed = (line.sku for line in data.lines)
            progress.with_lines_flagged(row, handed, handed_over=True, backorder_announced=False)
        case OrderShipped():
            _dispatch(row, data, event)
        case OrderDelivered():
            _deliver(row, data)
        case ReturnAuthorized():
            progress.authorize_return(row, data.rma, data.lines, data.reason, event.time)
            row["return_requested_at"] = row["return_requested_at"] or event.time
        case ReturnRecorded():
            progress.record_return(row, data.rma, data.lines)
            row["returned_at"] = row["returned_at"] or event.time
            if data.inspected:
                progress.credit_inspected(row, data.lines, event.causationid or str(event.id))
                return True
        case _:  # requests, refusals, expiries, capture requests: the timeline shows them
            pass
    return False


def _dispatch(row: Row, data: OrderShipped, event: Event[EventData]) -> None:
    tracking = {"carrier": data.carrier, "tracking_number": data.tracking_number, "tracking_url": data.tracking_url}
    at = progress.iso(event.time)
    progress.update_parcel(row, data.shipment_id, **tracking, dispatched_at=at, complete=data.complete)
    row["shipped_at"] = min(filter(None, (row["shipped_at"], event.time)))  # when the first parcel left


def _deliver(row: Row, data: OrderDelivered) -> None:
    at = progress.iso(data.delivered_at)
    if data.shipment_id is not None:
        progress.update_parcel(row, data.shipment_id, delivered_at=at)
    else:  # v1: the whole order
        for parcel in row["parcels"]:
            progress.update_parcel(row, parcel["shipment_id"], delivered_at=parcel["delivered_at"] or at)
    if data.complete:
        row["delivered_at"] = row["delivered_at"] or data.delivered_at


def _apply_parcel(row: Row, data: EventData, event: Event[EventData]) -> None:
    """A parcel's request names its lines (`oms.shipment.requested`, a decision of the order processor). Whether it
    left or arrived is the processor's word (`oms.order.shipped`, `oms.order.delivered`), not the carrier's: a
    dispatch is the processor's input, which it may refuse (a parcel for an order it cancelled)."""
    if isinstance(data, ShipmentRequested):
        lines = progress.as_lines(data.lines)
        progress.update_parcel(row, data.shipment_id, lines=lines, requested_at=progress.iso(event.time))


def _name_latest_parcel(row: Row) -> None:
    """The order's carrier and tracking columns name the parcel that left last."""
    latest = progress.latest_dispatched(row)
    if latest is not None:
        row.update({key: latest[key] for key in ("carrier", "tracking_number", "tracking_url")})


# --- the batch step -------------------------------------------------------------------------


def apply_order_batch(conn: Connection, items: Sequence[Positioned]) -> None:
    """Fold a batch of (deduplicated, in log order per partition) events into the orders, customers and sales
    views and mark the requests they refuse; `record_timeline` has written their timeline rows."""
    events = [item.event for item in items if item.event.data.topic in FOLDED_TOPICS]
    order_events = [event for event in events if is_row_event(event)]
    keys = {(event.data.partition_key(),) for event in order_events}
    current = load_rows(conn, orders, keys)
    sales: dict[SalesKey, list[Row]] = {}
    customers_changed: set[str] = set()
    for event in order_events:
        key = (event.data.partition_key(),)
        before = current.get(key)
        after = evolve_order(before, event)
        current[key] = after
        for day, delta in sales_changes(before, after, event):
            sales.setdefault(day, []).append(delta)
        if as_customer_sees_it(before) != as_customer_sees_it(after):
            customers_changed.update(row["customer_key"] for row in (before, after) if row and row["customer_key"])
    upsert(conn, orders, current.values())
    write_sales(conn, sales)
    mark_refused(conn, events)
    # Only placements, cancellations and money change a customer row; a confirmation or a parcel does not, and
    # re-reading every order of a loyal customer at each of them made the customers view O(orders) an event.
    refresh_customers(conn, customers_changed)
