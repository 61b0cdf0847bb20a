"""Money going back on one order: refunds of what it no longer costs, refunds the shop reports it made, and
voids of what is only authorized once it is cancelled. A refund never takes back more than its payment has left.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from events import LineQty, RefundIssued, RefundReported
from events.payments import PaymentVoidRequested, RefundCause
from pipeline.rules.common import Output, Outputs, Refused, Rejected
from pipeline.rules.ledger import Refund, find, refund_shares, with_payment
from pipeline.rules.money import ZERO, quantum, rounded, text
from pipeline.rules.order_state import OrderState
from pipeline.rules.order_status import balance, cost

Outcome = tuple[OrderState, Outputs]


@dataclass(frozen=True)
class RefundWhy:
    """Why money goes back, for the refund events: the cause, words for people, and which payment first."""

    cause: RefundCause
    reason: str
    prefer: str | None = None
    rma: str | None = None
    lines: tuple[LineQty, ...] = ()


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
