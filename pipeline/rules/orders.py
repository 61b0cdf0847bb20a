"""Order rules, per order id: the lifecycle from placed to delivered (or handed over), its money, changes,
cancellation and returns.

`decide_order` is pure: the same state, event and `now` always give the same state and outputs (ids
included). A request it refuses gives an `oms.order.request_refused` and leaves the state as it was;
input that makes no sense raises `Rejected` (the shell dead-letters it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from events import (
    Event,
    EventData,
    OrderAwaitingPayment,
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
from pipeline.rules.money import ZERO
from pipeline.rules.order_changes import cancel, request_cancel, request_change
from pipeline.rules.order_held_payments import expire_hold, hold_payment
from pipeline.rules.order_payments import pay, payment_id_of
from pipeline.rules.order_placement import place
from pipeline.rules.order_refunds import record_reported_refund
from pipeline.rules.order_returns import inspect_return, receive_return, request_return
from pipeline.rules.order_state import OrderState
from pipeline.rules.order_status import amount_due, is_covered, money, notify, with_derived_status
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

SOURCE = "oms.pipeline.orders"
PAYMENT_TIMEOUT_REASON = "payment timeout"
PAYMENT_EXPIRED_STEP = "payment_expired"
HOLD_EXPIRED_STEP = "payment_hold_expired"
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
    state, due = _announce_due(before, state, context)
    return with_derived_status(state), (*outputs, *shipping, *due)


def _announce_due(before: OrderState | None, state: OrderState, context: Context) -> Outcome:
    due = ZERO if state.is_cancelled else amount_due(state)
    if due == 0:
        met = state.payment_due_at is not None and not state.is_cancelled
        if state.announced_due is None and met == state.deadline_met:
            return state, ()
        return state.model_copy(update={"announced_due": None, "deadline_met": met or state.deadline_met}), ()
    shipping = state.has_shipping()
    if _open_deadline(state, shipping) is None and not shipping:
        state = _new_deadline(before, state, context)
    if due == state.announced_due:
        return state, ()
    deadline = _open_deadline(state, shipping)
    awaiting = OrderAwaitingPayment(order_id=state.order_id, payment_due_at=deadline, amount_due=due)
    dated = {"payment_due_at": deadline.isoformat()} if deadline else {}
    told = notify(state, "awaiting_payment", **money(state, due, "amount_due"), **dated)
    return state.model_copy(update={"announced_due": due}), (("awaiting_payment", awaiting), *told)


def _new_deadline(before: OrderState | None, state: OrderState, context: Context) -> OrderState:
    """A first deadline (at placement, or when a paid order's change costs more) or a new one after the
    last was met: each expiry then gets an id of its own."""
    had_one = before is not None and before.payment_due_at is not None
    return state.model_copy(
        update={
            "payment_due_at": context.event.time + context.payment_timeout,
            "deadline_met": False,
            "deadlines": state.deadlines + 1 if had_one else state.deadlines,
        }
    )


def expire_payment(state: OrderState, data: OrderPaymentExpired) -> Outcome:
    """The deadline passed: cancel (refunding any part payment), unless it was met or moved meanwhile."""
    if next_deadline(state) != data.payment_due_at:
        return state, ()
    return cancel(state, PAYMENT_TIMEOUT_REASON)


# --- the timer: which keys are due, and the event that expires them -----------------------------


def next_deadline(state: OrderState) -> datetime | None:
    """When this key's timer must fire: an unpaid order's payment deadline (while it is open: not met,
    nothing handed to shipping, not cancelled), or when payments waiting for their order are refunded."""
    if state.order is None:
        return state.payment_due_at if state.held else None
    if state.is_cancelled or is_covered(state):
        return None
    return _open_deadline(state, state.has_shipping())


def _open_deadline(state: OrderState, shipping: bool) -> datetime | None:
    """The deadline of an order known not to be paid for, unless it was met or a part went to shipping."""
    return None if state.deadline_met or shipping else state.payment_due_at


def is_payment_overdue(state: OrderState, now: datetime) -> bool:
    """True when the key's deadline (see `next_deadline`) has passed."""
    deadline = next_deadline(state)
    return deadline is not None and now >= deadline


def payment_expired(state: OrderState, now: datetime) -> Event[EventData]:
    """The timer's event for an overdue key: `oms.order.payment_expired`, or `oms.payment.hold_expired`
    for payments without an order. Its id derives from the order's placement (or the first held payment)
    and the deadline's number, so however often the timer fires, the order processor sees one expiry."""
    if state.payment_due_at is None:
        raise Rejected(f"order {state.order_id} has no payment deadline to expire")
    if state.order is None and state.held:
        first = state.held[0].event_id
        held = PaymentHoldExpired(order_id=state.order_id, held_until=state.payment_due_at)
        return _timer_event(held, derived_id(first, HOLD_EXPIRED_STEP), first, state.correlation_id or first, now)
    if state.placed_event_id is None:
        raise Rejected(f"order {state.order_id} was never placed")
    step = PAYMENT_EXPIRED_STEP if state.deadlines == 0 else f"{PAYMENT_EXPIRED_STEP}:{state.deadlines}"
    expired = OrderPaymentExpired(order_id=state.order_id, payment_due_at=state.payment_due_at)
    placed = str(state.placed_event_id)
    return _timer_event(expired, derived_id(placed, step), placed, state.correlation_id, now)


def expiries_due(states: Iterable[OrderState], now: datetime) -> list[Event[EventData]]:
    """The expiry events of every state whose deadline has passed."""
    return [payment_expired(state, now) for state in states if is_payment_overdue(state, now)]


def _timer_event(data: EventData, event_id: object, cause: str, correlation: str, now: datetime) -> Event[EventData]:
    return Event(
        id=event_id,
        source=SOURCE,
        type=data.event_type,
        time=now,
        subject=data.partition_key(),
        data=data,
        schemaversion=data.schema_version,
        correlationid=correlation,
        causationid=cause,
    )
