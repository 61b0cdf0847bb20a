"""Order rules, per order id: the lifecycle from placed to delivered, payment timeout, cancel and returns.

`decide_order` is pure: the same state, event and `now` always give the same state and outputs (ids
included). It asks the inventory for stock line by line and reacts to its replies.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from events import (
    Event,
    EventData,
    NotificationRequested,
    OrderAwaitingPayment,
    OrderCancelled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderConfirmed,
    OrderPaid,
    OrderPaymentExpired,
    OrderPlaced,
    ReturnReceived,
    ReturnRequested,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentRequested,
    StockReleaseRequested,
    StockReservationFailed,
    StockReservationRequested,
    StockReserved,
    derived_id,
)
from pipeline.rules.common import Decision, Outputs, Rejected, decision, unchanged
from pipeline.rules.fulfilment import backorder_line, deliver, dispatch, request_shipments, reserve_line
from pipeline.rules.order_returns import receive_return, request_return
from pipeline.rules.order_state import OrderState, notice, with_settled_status

__all__ = ["SOURCE", "OrderState", "decide_order", "is_payment_overdue", "payment_expired"]

SOURCE = "oms.pipeline.orders"
PAYMENT_TIMEOUT_REASON = "payment timeout"
TOO_LATE_TO_CANCEL = "already shipped; request a return instead"
PAYMENT_EXPIRED_STEP = "payment_expired"

Outcome = tuple[OrderState, Outputs]


def decide_order(
    state: OrderState | None,
    event: Event[EventData],
    now: datetime,
    *,
    payment_timeout: timedelta,
    split_shipments: bool = False,
) -> Decision[OrderState]:
    data = event.data
    if isinstance(data, OrderPlaced):
        outcome: Outcome | None = place(event, data, payment_timeout) if state is None else (state, ())
    else:
        outcome = _apply(state, data, split_shipments)
    if outcome is None:
        return unchanged(state)
    decided = decision(event, outcome[0], outcome[1], source=SOURCE, now=now)
    return Decision(decided.state, tuple(_order_rooted(emitted, outcome[0]) for emitted in decided.emitted))


def _order_rooted(emitted: Event[EventData], state: OrderState) -> Event[EventData]:
    """Outputs that happen once per order whichever input completes them (the last reservation or the
    payment, in whatever order they arrive) take ids derived from the order, not from that input, so a
    re-run that sees its inputs in another interleaving still emits the same ids."""
    step = _step_of(emitted, state)
    if step is None:
        return emitted
    return emitted.model_copy(update={"id": derived_id(state.placed_event_id, step)})


def _step_of(emitted: Event[EventData], state: OrderState) -> str | None:
    data = emitted.data
    if isinstance(data, OrderConfirmed):
        return "confirmed"
    if isinstance(data, NotificationRequested) and data.kind == "confirmed":
        return "notify:confirmed"
    if isinstance(data, ShipmentRequested):
        return f"ship:{data.shipment_id}"
    return None


def _apply(state: OrderState | None, data: EventData, split: bool) -> Outcome | None:
    match data:
        case StockReserved():
            return reserve_line(_known(state, data), data, split=split)
        case StockReservationFailed():
            return backorder_line(_known(state, data), data)
        case OrderPaid():
            return pay(_known(state, data), data, split=split)
        case OrderPaymentExpired():
            return expire_payment(_known(state, data))
        case OrderCancelRequested():
            return request_cancel(_known(state, data), data)
        case ShipmentDispatched():
            return dispatch(_known(state, data), data)
        case ShipmentDelivered():
            return deliver(_known(state, data), data)
        case ReturnRequested():
            return request_return(_known(state, data), data)
        case ReturnReceived():
            return receive_return(_known(state, data), data)
    return None


def _known(state: OrderState | None, data: EventData) -> OrderState:
    if state is None:
        raise Rejected(
            f"unknown order {getattr(data, 'order_id', data.partition_key())}: no oms.order.placed was seen for it; "
            f"publish the order before its {data.event_type}"
        )
    return state


def place(event: Event[EventData], data: OrderPlaced, payment_timeout: timedelta) -> Outcome:
    """Ask for stock line by line; an unpaid order also gets a payment deadline."""
    unpaid = data.payment_status == "pending"
    due = event.time + payment_timeout if unpaid else None
    placed = OrderState(
        order=data,
        placed_event_id=event.id,
        correlation_id=event.correlationid,
        status="awaiting_payment" if unpaid else "placed",
        paid=not unpaid,
        payment_due_at=due,
    )
    requests: Outputs = tuple(
        (
            f"reserve:{line.sku}",
            StockReservationRequested(sku=line.sku, order_id=data.order_id, qty=line.qty, placed_at=data.placed_at),
        )
        for line in data.lines
    )
    if due is None:
        return placed, requests
    return placed, (*requests, ("awaiting_payment", OrderAwaitingPayment(order_id=data.order_id, payment_due_at=due)))


def pay(state: OrderState, data: OrderPaid, *, split: bool) -> Outcome:
    if state.paid:
        return state, ()
    if state.is_cancelled:
        raise Rejected(
            f"order {state.order_id} was cancelled ({state.cancel_reason}) before its payment of "
            f"{format(data.amount, 'f')} {state.order.currency} arrived; refund the payment"
        )
    return request_shipments(with_settled_status(state.model_copy(update={"paid": True})), split=split)


def expire_payment(state: OrderState) -> Outcome:
    """The deadline passed: cancel, unless the order was paid (or already ended) in the meantime."""
    if state.paid or state.is_cancelled or state.has_shipped:
        return state, ()
    return cancel(state, PAYMENT_TIMEOUT_REASON)


def request_cancel(state: OrderState, data: OrderCancelRequested) -> Outcome:
    if state.is_cancelled:
        return state, ()
    if state.has_shipped:
        return state, (("cancel_rejected", OrderCancelRejected(order_id=state.order_id, reason=TOO_LATE_TO_CANCEL)),)
    return cancel(state, data.reason)


def cancel(state: OrderState, reason: str) -> Outcome:
    """Cancel and give every line's stock (reservation or backorder place) back."""
    releases: Outputs = tuple(
        (f"release:{line.sku}", StockReleaseRequested(sku=line.sku, order_id=state.order_id, reason=reason))
        for line in state.order.lines
    )
    cancelled = state.model_copy(update={"status": "cancelled", "cancel_reason": reason})
    return cancelled, (
        ("cancelled", OrderCancelled(order_id=state.order_id, reason=reason)),
        *releases,
        ("notify:cancelled", notice(cancelled, "cancelled", reason=reason)),
    )


def is_payment_overdue(state: OrderState, now: datetime) -> bool:
    """True for an unpaid, still open order whose payment deadline has passed."""
    if state.paid or state.is_cancelled or state.has_shipped or state.payment_due_at is None:
        return False
    return now >= state.payment_due_at


def payment_expired(state: OrderState, now: datetime) -> Event[OrderPaymentExpired]:
    """The timer's event for an overdue order. Its id derives from the order's placement, so however often
    the timer fires, the order processor sees one expiry."""
    if state.payment_due_at is None:
        raise Rejected(f"order {state.order_id} has no payment deadline to expire")
    data = OrderPaymentExpired(order_id=state.order_id, payment_due_at=state.payment_due_at)
    return Event(
        id=derived_id(state.placed_event_id, PAYMENT_EXPIRED_STEP),
        source=SOURCE,
        type=data.event_type,
        time=now,
        subject=data.partition_key(),
        data=data,
        schemaversion=data.schema_version,
        correlationid=state.correlation_id,
        causationid=str(state.placed_event_id),
    )
