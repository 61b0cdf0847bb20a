"""Payments that come before their order: held, counted when the order is placed, given back (refunded or
voided) when no order comes within the hold."""

from __future__ import annotations

from datetime import timedelta

from events import Event, EventData, OrderPaid, PaymentHoldExpired, RefundIssued
from events.payments import PaymentVoidRequested
from pipeline.rules.common import Output, Outputs, Refused, Rejected
from pipeline.rules.ledger import Payment, with_payment
from pipeline.rules.order_payments import PAID_TYPE, give_back_unneeded, payment_id_of, record_payment
from pipeline.rules.order_state import HeldPayment, OrderState
from pipeline.rules.refusals import refusal_of

Outcome = tuple[OrderState, Outputs]


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
