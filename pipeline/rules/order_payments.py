"""Payment reports counted in one order's ledger, money the order does not need given back, and captures at
shipment (refunds are in `order_refunds`, payments that come before their order in `order_held_payments`).
"""

from __future__ import annotations

from decimal import Decimal

from events import Event, EventData, OrderPaid
from events.payments import PaymentCaptureRequested, PaymentRecorded
from pipeline.rules.common import Output, Outputs, Refused
from pipeline.rules.ledger import captured, refunded, reported, with_payment
from pipeline.rules.money import ZERO, rounded, text
from pipeline.rules.order_refunds import RefundWhy, settle
from pipeline.rules.order_state import OrderState
from pipeline.rules.order_status import amount_due, money, notify
from pipeline.rules.phrasebook import OVERPAID, PAID_AFTER_CANCEL

Outcome = tuple[OrderState, Outputs]
PAID_TYPE = OrderPaid.event_type


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
