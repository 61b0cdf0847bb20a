"""An unpaid order's payment deadline: announced with what is due, renewed when a change makes it cost more, and
expired by the timer (`payment_expired`) unless it was met or something was handed to shipping."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from events import Event, EventData, OrderAwaitingPayment, OrderPaymentExpired, PaymentHoldExpired, derived_id
from pipeline.rules.common import Outputs, Rejected
from pipeline.rules.money import ZERO
from pipeline.rules.order_changes import cancel
from pipeline.rules.order_state import SOURCE, OrderState
from pipeline.rules.order_status import amount_due, is_covered, money, notify

PAYMENT_TIMEOUT_REASON = "payment timeout"
PAYMENT_EXPIRED_STEP = "payment_expired"
HOLD_EXPIRED_STEP = "payment_hold_expired"

Outcome = tuple[OrderState, Outputs]


def announce_due(before: OrderState | None, state: OrderState, new_deadline_at: datetime) -> Outcome:
    """Tell the customer what is due, with a deadline while nothing was handed to shipping (`new_deadline_at`
    if a new one is needed); once nothing is due, the deadline is met."""
    due = ZERO if state.is_cancelled else amount_due(state)
    if due == 0:
        met = state.payment_due_at is not None and not state.is_cancelled
        if state.announced_due is None and met == state.deadline_met:
            return state, ()
        return state.model_copy(update={"announced_due": None, "deadline_met": met or state.deadline_met}), ()
    shipping = state.has_shipping()
    if _open_deadline(state, shipping) is None and not shipping:
        state = _new_deadline(before, state, new_deadline_at)
    if due == state.announced_due:
        return state, ()
    deadline = _open_deadline(state, shipping)
    awaiting = OrderAwaitingPayment(order_id=state.order_id, payment_due_at=deadline, amount_due=due)
    dated = {"payment_due_at": deadline.isoformat()} if deadline else {}
    told = notify(state, "awaiting_payment", **money(state, due, "amount_due"), **dated)
    return state.model_copy(update={"announced_due": due}), (("awaiting_payment", awaiting), *told)


def _new_deadline(before: OrderState | None, state: OrderState, at: datetime) -> OrderState:
    """A first deadline (at placement, or when a paid order's change costs more) or a new one after the
    last was met: each expiry then gets an id of its own."""
    had_one = before is not None and before.payment_due_at is not None
    return state.model_copy(
        update={
            "payment_due_at": at,
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
