"""Money rules of one order: payment reports counted in its ledger, refunds of what it no longer costs,
captures at shipment, and payments that come before their order.

Every refund names the payment it goes back to and never takes back more than that payment has left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from events import Event, EventData, LineQty, OrderPaid, PaymentHoldExpired, RefundIssued, RefundReported
from events.payments import PaymentCaptureRequested, PaymentRecorded, PaymentVoidRequested, RefundCause
from pipeline.rules.common import Output, Outputs, Refused, Rejected
from pipeline.rules.ledger import Payment, Refund, captured, find, refund_shares, refunded, reported, with_payment
from pipeline.rules.money import ZERO, quantum, rounded, text
from pipeline.rules.order_state import HeldPayment, OrderState
from pipeline.rules.order_status import amount_due, balance, cost, money, notify
from pipeline.rules.phrasebook import OVERPAID, PAID_AFTER_CANCEL
from pipeline.rules.refusals import refusal_of

Outcome = tuple[OrderState, Outputs]
PAID_TYPE = OrderPaid.event_type


@dataclass(frozen=True)
class RefundWhy:
    """Why money goes back, for the refund events: the cause, words for people, and which payment first."""

    cause: RefundCause
    reason: str
    prefer: str | None = None
    rma: str | None = None
    lines: tuple[LineQty, ...] = ()


def payment_id_of(event: Event[EventData], data: OrderPaid) -> str:
    """The payment a report is about: its `payment_id`, or (v1, no id) the event itself."""
    return data.payment_id or str(event.id)


def pay(state: OrderState, payment_id: str, data: OrderPaid) -> Outcome:
    """Count a payment; money the order does not need (paid twice, or after it was cancelled) goes back."""
    state, outputs = record_payment(state, payment_id, data)
    if not outputs:
        return state, ()
    state, money_back = give_back_unneeded(state, payment_id)
    return state, (*outputs, *money_back)


def give_back_unneeded(state: OrderState, payment_id: str) -> Outcome:
    """Refund (and tell the customer) what was paid above what the order costs, `payment_id` first."""
    if state.is_cancelled:
        why = RefundWhy("late_payment", f"paid after the order was cancelled ({state.cancel_reason})", payment_id)
    else:
        why = RefundWhy("overpayment", "paid more than the order costs", payment_id)
    state, money_back, amount = settle(state, why)
    phrased = PAID_AFTER_CANCEL if state.is_cancelled else OVERPAID
    told = notify(state, "payment_refunded", reason=phrased, **money(state, amount)) if amount else ()
    return state, (*money_back, *told)


def record_payment(state: OrderState, payment_id: str, data: OrderPaid) -> Outcome:
    """Count a payment report in the ledger. Refused: another currency, a lower amount than reported
    before, a payment refunded in full. A repeat changes nothing and says nothing."""
    currency = data.currency or state.currency
    if currency != state.currency:
        raise Refused(
            "wrong_currency",
            f"payment {payment_id} of {text(data.amount)} {currency} is not in the order's currency "
            f"{state.currency}; it was not counted: refund it at the provider",
        )
    payment = reported(state.payments, payment_id, data.kind, data.amount)
    if payment is None:
        return state, ()
    state = state.model_copy(update={"payments": with_payment(state.payments, payment)})
    recorded = PaymentRecorded(
        order_id=state.order_id,
        payment_id=payment_id,
        kind=data.kind,
        amount=data.amount,
        currency=currency,
        captured=captured(state.payments),
        refunded=refunded(state.payments),
        balance_due=amount_due(state),
    )
    return state, ((f"payment:{payment_id}", recorded),)


def record_reported_refund(state: OrderState, data: RefundReported) -> Outcome:
    """A refund the shop or provider made itself, counted against the payment it names.

    What this ledger gave back of that payment already (a change or cancellation here, which the shop then
    carried out) is not counted twice: only what the reports add beyond it is new money back, announced as
    `oms.refund.issued` with cause `reported`. A refund id seen before changes nothing. Refused: another
    currency, a payment the order does not have, reports of more than the payment captured."""
    payment = find(state.payments, data.payment_id)
    if payment is not None and data.refund_id in payment.reported_refunds:
        return state, ()
    if data.currency != state.currency:
        raise Refused(
            "wrong_currency",
            f"refund {data.refund_id} of {text(data.amount)} {data.currency} is not in the order's currency "
            f"{state.currency}; it was not recorded",
        )
    if payment is None:
        raise Refused(
            "payment_conflict", f"order {state.order_id} has no payment {data.payment_id} that refund could be of"
        )
    reported = payment.reported + data.amount
    if reported > payment.captured:
        raise Refused(
            "payment_conflict",
            f"payment {data.payment_id} captured {text(payment.captured)}; refunds of {text(reported)} in all "
            "cannot be recorded against it",
        )
    new = max(reported - payment.refunded, ZERO)
    known = payment.model_copy(
        update={
            "reported": reported,
            "reported_refunds": (*payment.reported_refunds, data.refund_id),
            "conceded": payment.conceded + new,
        }
    )
    state = state.model_copy(update={"payments": with_payment(state.payments, known)})
    if new == 0:
        return state, ()
    state, refund = _refund(state, data.payment_id, new, RefundWhy("reported", data.reason))
    return state, (refund,)


def settle(state: OrderState, why: RefundWhy) -> tuple[OrderState, Outputs, Decimal]:
    """Give back what was paid above what the order costs now (and, once cancelled, void what is only
    authorized). Returns the state, the refund and void events, and the amount refunded."""
    excess = rounded(-balance(state), state.currency)
    outputs: Outputs = ()
    total = ZERO
    if excess >= quantum(state.currency):
        for payment_id, share in refund_shares(state.payments, excess, state.currency, why.prefer):
            state, amount = _unconceded(state, payment_id, share)
            if amount > 0:
                state, refund = _refund(state, payment_id, amount, why)
                outputs, total = (*outputs, refund), total + amount
    if state.is_cancelled:
        state, voids = _void_authorizations(state, why.reason)
        outputs = (*outputs, *voids)
    return state, outputs, total


def _unconceded(state: OrderState, payment_id: str, amount: Decimal) -> tuple[OrderState, Decimal]:
    """Of a refund decided for `payment_id`, what the shop has not given back already of its own accord; what
    it has is now explained by this decision and no longer conceded. A concession explains only what it took
    off the order's cost: once the order costs nothing (cancelled), it explains nothing and all is refunded."""
    payment = find(state.payments, payment_id)
    if payment is None or payment.conceded <= 0:
        return state, amount
    taken = min(amount, payment.conceded)
    cost_before = cost(state)
    payment = payment.model_copy(update={"conceded": payment.conceded - taken})
    state = state.model_copy(update={"payments": with_payment(state.payments, payment)})
    return state, amount - (cost(state) - cost_before)


def _refund(state: OrderState, payment_id: str, amount: Decimal, why: RefundWhy) -> tuple[OrderState, Output]:
    payment = find(state.payments, payment_id)
    if payment is None:
        raise Rejected(f"order {state.order_id} has no payment {payment_id} to refund")
    payment = payment.model_copy(update={"refunded": payment.refunded + amount})
    record = Refund(payment_id=payment_id, amount=amount, cause=why.cause, rma=why.rma)
    state = state.model_copy(
        update={"payments": with_payment(state.payments, payment), "refunds": (*state.refunds, record)}
    )
    event = RefundIssued(
        order_id=state.order_id,
        amount=amount,
        currency=payment.currency or state.currency,
        reason=why.reason,
        payment_id=payment_id,
        cause=why.cause,
        lines=why.lines,
        rma=why.rma,
    )
    return state, (f"refund:{payment_id}", event)


def _void_authorizations(state: OrderState, reason: str) -> Outcome:
    outputs: Outputs = ()
    for payment in state.payments:
        if payment.uncaptured > 0:
            void = PaymentVoidRequested(
                order_id=state.order_id,
                payment_id=payment.payment_id,
                amount=payment.uncaptured,
                currency=payment.currency or state.currency,
                reason=reason,
            )
            outputs = (*outputs, (f"void:{payment.payment_id}", void))
            state = state.model_copy(
                update={"payments": with_payment(state.payments, payment.model_copy(update={"voided": True}))}
            )
    return state, outputs


def capture_shipped(state: OrderState, amount: Decimal, shipment_id: str | None) -> Outcome:
    """For an order captured at shipment: capture `amount` (what just left) from its authorizations."""
    if state.placed.capture != "at_shipment":
        return state, ()
    left, outputs = rounded(amount, state.currency), tuple[Output, ...]()
    for payment in state.payments:
        room = payment.uncaptured - max(payment.capture_requested - payment.captured, ZERO)
        take = min(left, room)
        if take <= 0:
            continue
        asked = max(payment.capture_requested, payment.captured) + take
        state = state.model_copy(
            update={"payments": with_payment(state.payments, payment.model_copy(update={"capture_requested": asked}))}
        )
        capture = PaymentCaptureRequested(
            order_id=state.order_id,
            payment_id=payment.payment_id,
            amount=take,
            currency=state.currency,
            shipment_id=shipment_id,
        )
        outputs, left = (*outputs, (f"capture:{payment.payment_id}", capture)), left - take
    return state, outputs


# --- payments that come before their order ---------------------------------------------------


def hold_payment(state: OrderState | None, event: Event[EventData], data: OrderPaid, hold: timedelta) -> Outcome:
    """Keep a payment for an order not placed yet; it is applied when the order comes, refunded if it
    does not come within `hold` (the timer sends `oms.payment.hold_expired`)."""
    if data.currency is None:
        raise Rejected(
            f"payment for unknown order {data.order_id} names no currency; a payment that comes before its "
            "order must carry one (oms.order.paid schemaversion 2)"
        )
    state = state or OrderState(correlation_id=event.correlationid)
    payment_id = payment_id_of(event, data)
    if any(payment_id_of_held(held) == payment_id and held.payment == data for held in state.held):
        return state, ()
    due = state.payment_due_at if state.held else event.time + hold
    held = HeldPayment(event_id=str(event.id), payment=data.model_copy(update={"payment_id": payment_id}))
    return state.model_copy(update={"held": (*state.held, held), "payment_due_at": due}), ()


def payment_id_of_held(held: HeldPayment) -> str:
    return held.payment.payment_id or held.event_id


def expire_hold(state: OrderState, data: PaymentHoldExpired) -> Outcome:
    """No order came: every held capture goes back to its payment, every authorization is voided."""
    if state.order is not None or not state.held or data.held_until != state.payment_due_at:
        return state, ()
    outputs: Outputs = ()
    reason = f"no order {state.order_id} was placed for this payment"
    for held in state.held:
        state, given_back = _give_back_held(state, held, reason)
        outputs = (*outputs, given_back)
    return state.model_copy(update={"held": (), "payment_due_at": None}), outputs


def _give_back_held(state: OrderState, held: HeldPayment, reason: str) -> tuple[OrderState, Output]:
    paid, payment_id, currency = held.payment, payment_id_of_held(held), str(held.payment.currency)
    output: Output
    if paid.kind == "captured":
        payment = Payment(
            payment_id=payment_id, currency=currency, captured=paid.amount, authorized=paid.amount, refunded=paid.amount
        )
        refund = RefundIssued(
            order_id=state.order_id,
            amount=paid.amount,
            currency=currency,
            reason=reason,
            payment_id=payment_id,
            cause="unmatched_payment",
        )
        output = (f"refund:{payment_id}", refund)
    else:
        payment = Payment(payment_id=payment_id, currency=currency, authorized=paid.amount, voided=True)
        void = PaymentVoidRequested(
            order_id=state.order_id, payment_id=payment_id, amount=paid.amount, currency=currency, reason=reason
        )
        output = (f"void:{payment_id}", void)
    return state.model_copy(update={"payments": with_payment(state.payments, payment)}), output


def apply_held(state: OrderState) -> Outcome:
    """At placement: count the payments that waited for the order (refusing those it cannot take), then
    give back what the order does not need."""
    outputs: Outputs = ()
    last: str | None = None
    for held in state.held:
        payment_id = payment_id_of_held(held)
        try:
            state, recorded = record_payment(state, payment_id, held.payment)
        except Refused as refused:
            recorded = ((f"refused:{held.event_id}", refusal_of(state, held.event_id, PAID_TYPE, refused)),)
        else:
            last = payment_id if recorded else last
        outputs = (*outputs, *recorded)
    state = state.model_copy(update={"held": ()})
    if last is None:
        return state, outputs
    state, money_back = give_back_unneeded(state, last)
    return state, (*outputs, *money_back)
