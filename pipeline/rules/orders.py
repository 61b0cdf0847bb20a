"""Order rules, per order id: the lifecycle from placed to delivered (or handed over), its money, changes,
cancellation and returns.

`decide_order` is pure: the same state, event and `now` always give the same state and outputs (ids
included). A request it refuses gives an `oms.order.request_refused` and leaves the state as it was;
input that makes no sense raises `Rejected` (the shell dead-letters it). This module routes each input to the
`order_*` module of its concern (placement, payments, refunds, changes, returns, deadlines) and follows up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from events import (
    Event,
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
    StockReservationFailed,
    StockReserved,
    decode,
    derived_id,
    encode,
)
from pipeline.rules.common import Decision, Outputs, Refused, Rejected, decision, emit, unchanged
from pipeline.rules.fulfilment import backorder_line, deliver, dispatch, reserve_line, ship_what_can_ship
from pipeline.rules.order_changes import request_cancel, request_change
from pipeline.rules.order_deadlines import (
    announce_due,
    expire_payment,
    expiries_due,
    is_payment_overdue,
    next_deadline,
    payment_expired,
)
from pipeline.rules.order_held_payments import expire_hold, hold_payment
from pipeline.rules.order_payments import pay, payment_id_of
from pipeline.rules.order_placement import place
from pipeline.rules.order_refunds import record_reported_refund
from pipeline.rules.order_returns import inspect_return, receive_return, request_return
from pipeline.rules.order_state import SOURCE, OrderState
from pipeline.rules.order_status import with_derived_status
from pipeline.rules.refusals import refusal_of

__all__ = [
    "SOURCE",
    "OrderState",
    "decide_order",
    "expiries_due",
    "is_payment_overdue",
    "next_deadline",
    "payment_expired",
]

ORDER_INPUTS = (
    StockReserved,
    StockReservationFailed,
    OrderPaid,
    RefundReported,
    OrderPaymentExpired,
    OrderCancelRequested,
    OrderChangeRequested,
    ShipmentDispatched,
    ShipmentDelivered,
    ReturnRequested,
    ReturnReceived,
    ReturnInspected,
)
EARLY_INPUTS = (StockReserved, StockReservationFailed, ShipmentDispatched)
"""What the pipeline itself emits about an order, caused by its placement: read before it only on a replay."""
PIPELINE_SOURCE = "oms.pipeline."
EARLY_KEPT = 100  # per order; the pipeline emits a handful per order, so this is never reached but by a flood
ROOTED_STEPS = frozenset({"confirmed", "notify:confirmed", "handed_over"})
ROOTED_PREFIXES = ("ship:", "handover:")

Outcome = tuple[OrderState, Outputs]


@dataclass(frozen=True)
class Context:
    event: Event[EventData]
    payment_timeout: timedelta
    payment_hold: timedelta
    split: bool


def decide_order(
    state: OrderState | None,
    event: Event[EventData],
    now: datetime,
    *,
    payment_timeout: timedelta,
    split_shipments: bool = False,
    payment_hold: timedelta | None = None,
) -> Decision[OrderState]:
    """`payment_hold`: how long a payment waits for its order before it is refunded (default: the timeout)."""
    context = Context(event, payment_timeout, payment_hold or payment_timeout, split_shipments)
    if is_early(state, event):
        return Decision(_held_early(state, event), ())
    decided = _decide(state, event, now, context)
    if decided.state is None or decided.state.order is None or not decided.state.early:
        return decided
    return _then_early(decided.state, decided.emitted, now, context)


def is_early(state: OrderState | None, event: Event[EventData]) -> bool:
    """True for one of the pipeline's own events about an order that came before what caused it: an answer from
    the inventory before the order's placement, a dispatch before the request for that shipment."""
    data = event.data
    if not isinstance(data, EARLY_INPUTS) or not event.source.startswith(PIPELINE_SOURCE):
        return False
    if state is None or state.order is None:
        return True
    return isinstance(data, ShipmentDispatched) and state.shipment(data.shipment_id) is None


def _held_early(state: OrderState | None, event: Event[EventData]) -> OrderState:
    held = state or OrderState()
    return held.model_copy(update={"early": (*held.early, encode(event).decode())[-EARLY_KEPT:]})


def _then_early(
    state: OrderState, emitted: tuple[Event[EventData], ...], now: datetime, context: Context
) -> Decision[OrderState]:
    """After a decision, the events that came before what caused them and now fit, applied in the order they came,
    each with the ids it would have had; the others wait on."""
    waiting, state = state.early, state.model_copy(update={"early": ()})
    for raw in waiting:
        event = decode(raw)
        if is_early(state, event):
            state = _held_early(state, event)
            continue
        try:
            decided = _decide(state, event, now, replace(context, event=event))
        except Rejected as rejected:
            refusal = refusal_of(state, str(event.id), event.type, Refused("does_not_fit", str(rejected)))
            decided = decision(event, state, (("refused", refusal),), source=SOURCE, now=now)
        state = decided.state or state
        emitted = (*emitted, *decided.emitted)
    return Decision(state, emitted)


def _decide(state: OrderState | None, event: Event[EventData], now: datetime, context: Context) -> Decision[OrderState]:
    try:
        outcome = _apply(state, event.data, context)
    except Refused as refused:
        if state is None or state.order is None:
            raise Rejected(refused.reason) from None
        outcome = state, (("refused", refusal_of(state, str(event.id), event.type, refused)),)
    else:
        if outcome is not None and outcome[0].order is not None:
            outcome = _follow_up(state, outcome, context)
    if outcome is None:
        return unchanged(state)
    new, outputs = outcome
    return Decision(new, tuple(_emitted(event, step, data, new, now) for step, data in outputs))


def _emitted(cause: Event[EventData], step: str, data: EventData, state: OrderState, now: datetime) -> Event[EventData]:
    """Outputs that happen once per order whichever input completes them (the last reservation or the
    payment, in whatever order they arrive) take ids derived from the order, not from that input, so a
    re-run that sees its inputs in another interleaving still emits the same ids."""
    emitted = emit(cause, step, data, source=SOURCE, now=now)
    rooted = step in ROOTED_STEPS or step.startswith(ROOTED_PREFIXES)
    if not rooted or state.placed_event_id is None:
        return emitted
    return emitted.model_copy(update={"id": derived_id(state.placed_event_id, step)})


def _apply(state: OrderState | None, data: EventData, context: Context) -> Outcome | None:
    match data:
        case OrderPlaced():
            return place(state, context.event, data)
        case OrderPaid() if state is None or state.order is None:
            return hold_payment(state, context.event, data, context.payment_hold)
        case PaymentHoldExpired():
            return expire_hold(state, data) if state is not None else None
    if not isinstance(data, ORDER_INPUTS):
        return None  # another stage's event, or one of ours
    return _apply_to_order(_known(state, data), data, context)


def _apply_to_order(state: OrderState, data: EventData, context: Context) -> Outcome | None:
    match data:
        case StockReserved():
            return reserve_line(state, data)
        case StockReservationFailed():
            return backorder_line(state, data)
        case OrderPaid():
            return pay(state, payment_id_of(context.event, data), data)
        case RefundReported():
            return record_reported_refund(state, data)
        case OrderPaymentExpired():
            return expire_payment(state, data)
        case OrderCancelRequested():
            return request_cancel(state, data)
        case OrderChangeRequested():
            return request_change(state, context.event, data)
        case ShipmentDispatched():
            return dispatch(state, data)
        case ShipmentDelivered():
            return deliver(state, data)
        case ReturnRequested():
            return request_return(state, data)
        case ReturnReceived():
            return receive_return(state, data, context.event.time)
        case ReturnInspected():
            return inspect_return(state, data, context.event.time)
    return None


def _known(state: OrderState | None, data: EventData) -> OrderState:
    if state is None or state.order is None:
        raise Rejected(
            f"unknown order {getattr(data, 'order_id', data.partition_key())}: no oms.order.placed was seen for it; "
            f"publish the order before its {data.event_type}"
        )
    return state


def _follow_up(before: OrderState | None, outcome: Outcome, context: Context) -> Outcome:
    """After any decision: ship what can ship, tell the customer what is due (with a deadline while nothing
    was handed to shipping), and derive the status."""
    state, outputs = outcome
    state, shipping = ship_what_can_ship(state, split=context.split)
    state, due = announce_due(before, state, context.event.time + context.payment_timeout)
    return with_derived_status(state), (*outputs, *shipping, *due)
