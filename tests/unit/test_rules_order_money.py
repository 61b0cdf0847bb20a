"""Order money rules: given an order, when money arrives (or does not), then these events come out."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest

from events import (
    NotificationRequested,
    OrderAwaitingPayment,
    OrderConfirmed,
    OrderRequestRefused,
    PaymentCaptureRequested,
    PaymentHoldExpired,
    PaymentRecorded,
    PaymentVoidRequested,
    RefundIssued,
    ShipmentRequested,
    derived_id,
)
from events.notifications import NotificationKind
from pipeline.rules.common import Rejected
from pipeline.rules.order_status import balance, payment_status
from pipeline.rules.orders import OrderState, decide_order, expiries_due, is_payment_overdue, payment_expired
from pipeline.rules.phrasebook import OVERPAID
from tests.unit.rules_support import (
    Flow,
    at,
    cancel_requested,
    dispatched,
    of_type,
    paid,
    placed,
    refusals,
    reserved,
)

TIMEOUT = timedelta(minutes=30)
ORDER = "o-200"
MUG, TEA = "MUG-1", "TEA-2"


def orders() -> Flow[OrderState]:
    return Flow(partial(decide_order, payment_timeout=TIMEOUT))


def note(kind: NotificationKind, **params: str) -> NotificationRequested:
    return NotificationRequested(
        order_id=ORDER,
        kind=kind,
        recipient="ada@example.com",
        recipient_name="Ada",
        language="en",
        params={"order_id": ORDER, "name": "Ada", **params},
    )


def recorded(payment_id: str, amount: str, captured: str, due: str, *, refunded: str = "0") -> PaymentRecorded:
    return PaymentRecorded(
        order_id=ORDER,
        payment_id=payment_id,
        kind="captured",
        amount=Decimal(amount),
        currency="EUR",
        captured=Decimal(captured),
        refunded=Decimal(refunded),
        balance_due=Decimal(due),
    )


def unpaid_reserved(qty: int = 2, **options: object) -> Flow[OrderState]:
    """A 10.00-per-unit mug order, placed unpaid, its stock reserved: it waits for money only."""
    return orders().given(placed(ORDER, {MUG: qty}, paid=False, **options), reserved(ORDER, MUG, qty))


def state_of(flow: Flow[OrderState]) -> OrderState:
    assert flow.state is not None
    return flow.state


# --- the amount is read: under, exact, over ----------------------------------------------------


def test_an_underpayment_leaves_the_order_awaiting_the_balance_and_nothing_ships() -> None:
    flow = unpaid_reserved()
    assert flow.when(paid(ORDER, "0.01", payment_id="p-1")) == [
        recorded("p-1", "0.01", captured="0.01", due="19.99"),
        OrderAwaitingPayment(order_id=ORDER, payment_due_at=at(30), amount_due=Decimal("19.99")),
        note("awaiting_payment", amount_due="19.99", currency="EUR", payment_due_at=at(30).isoformat()),
    ]
    assert (state_of(flow).status, payment_status(state_of(flow))) == ("awaiting_payment", "partially_paid")
    outputs = flow.when(paid(ORDER, "19.99", payment_id="p-2"))
    assert [type(data).__name__ for data in outputs] == [
        "PaymentRecorded",
        "OrderConfirmed",
        "ShipmentRequested",
        "NotificationRequested",
    ]
    assert payment_status(state_of(flow)) == "paid"


def test_an_overpayment_is_refunded_to_the_payment_that_paid_too_much_and_the_order_ships() -> None:
    flow = unpaid_reserved(1)
    outputs = flow.when(paid(ORDER, "15.00", payment_id="p-1"))
    assert outputs[:3] == [
        recorded("p-1", "15.00", captured="15.00", due="0"),
        RefundIssued(
            order_id=ORDER,
            amount=Decimal("5.00"),
            currency="EUR",
            reason="paid more than the order costs",
            payment_id="p-1",
            cause="overpayment",
        ),
        note("payment_refunded", reason=OVERPAID, amount="5.00", currency="EUR"),
    ]
    assert of_type(outputs, OrderConfirmed) == [OrderConfirmed(order_id=ORDER, skus=(MUG,))]
    assert balance(state_of(flow)) == 0 and payment_status(state_of(flow)) == "paid"


def test_a_repeated_report_is_the_same_payment_and_a_lower_one_is_refused() -> None:
    flow = unpaid_reserved().given(paid(ORDER, "5.00", payment_id="p-1"))
    before = flow.state
    assert flow.when(paid(ORDER, "5.00", payment_id="p-1")) == [], "re-sent by the provider in a new envelope"
    assert refusals(flow.when(paid(ORDER, "4.00", payment_id="p-1"))) == [
        ("payment_conflict", "payment p-1 has captured 5.00 already; a report of 4.00 cannot lower it")
    ]
    assert flow.state == before
    assert of_type(flow.when(paid(ORDER, "20.00", payment_id="p-1")), PaymentRecorded)[0].captured == 20, (
        "a higher total of the same payment is the rest of it"
    )


def test_a_payment_in_another_currency_is_refused_with_a_reason_and_not_counted() -> None:
    flow = unpaid_reserved()
    before = flow.state
    request = paid(ORDER, "20.00", payment_id="p-usd", currency="USD")
    outputs = flow.when(request)
    assert refusals(outputs) == [
        (
            "wrong_currency",
            "payment p-usd of 20.00 USD is not in the order's currency EUR; "
            "it was not counted: refund it at the provider",
        )
    ]
    (refused,) = of_type(outputs, OrderRequestRefused)
    assert (refused.refused_event_id, refused.refused_type) == (str(request.id), "oms.order.paid")
    assert flow.state == before


def test_a_v1_payment_without_id_or_currency_counts_in_the_orders_currency_under_its_event_id() -> None:
    flow = unpaid_reserved()
    payment = paid(ORDER, "20.00")
    assert of_type(flow.when(payment), PaymentRecorded)[0].payment_id == str(payment.id)


# --- payments and cancellation -------------------------------------------------------------------


def test_a_timed_out_order_refunds_its_part_payment() -> None:
    flow = unpaid_reserved().given(paid(ORDER, "5.00", payment_id="p-1"))
    state = state_of(flow)
    assert is_payment_overdue(state, at(30)) and not is_payment_overdue(state, at(29))
    refunds = of_type(flow.when(payment_expired(state, at(31))), RefundIssued)
    assert [(r.amount, r.payment_id, r.cause) for r in refunds] == [(Decimal("5.00"), "p-1", "cancellation")]
    assert payment_status(state_of(flow)) == "refunded"


def test_a_late_report_of_a_payment_already_refunded_in_full_is_refused() -> None:
    flow = unpaid_reserved().given(cancel_requested(ORDER), paid(ORDER, "20.00", payment_id="p-1"))
    assert state_of(flow).payments[0].refunded == 20
    assert refusals(flow.when(paid(ORDER, "20.00", payment_id="p-1"))) == [
        ("payment_already_refunded", "payment p-1 was refunded in full (20.00); this report changes nothing")
    ]


def test_cancelling_refunds_each_payment_what_it_paid() -> None:
    flow = orders().given(
        placed(ORDER, {MUG: 3}, paid=False),
        paid(ORDER, "10.00", payment_id="p-1"),
        paid(ORDER, "20.00", payment_id="p-2"),
    )
    refunds = of_type(flow.when(cancel_requested(ORDER)), RefundIssued)
    assert [(r.payment_id, r.amount) for r in refunds] == [("p-1", Decimal("10.00")), ("p-2", Decimal("20.00"))]


# --- a payment before its order -----------------------------------------------------------------


def test_a_payment_before_its_order_waits_and_is_applied_when_the_order_comes() -> None:
    flow = orders()
    assert flow.when(paid(ORDER, "20.00", payment_id="p-1", currency="EUR")) == []
    outputs = flow.when(placed(ORDER, {MUG: 2}, paid=False))
    assert [type(data).__name__ for data in outputs] == ["StockReservationRequested", "PaymentRecorded"]
    assert of_type(flow.when(reserved(ORDER, MUG, 2)), ShipmentRequested), "paid, reserved: it ships"


def test_a_payment_before_its_order_must_name_its_currency() -> None:
    with pytest.raises(Rejected, match="names no currency"):
        orders().when(paid(ORDER, "20.00", payment_id="p-1"))


def test_a_payment_whose_order_never_comes_is_refunded_when_the_hold_runs_out() -> None:
    payment = paid(ORDER, "20.00", payment_id="p-1", currency="EUR", time=at(0))
    flow = orders().given(payment)
    state = state_of(flow)
    assert not is_payment_overdue(state, at(29)) and is_payment_overdue(state, at(30))
    expiry = payment_expired(state, at(31))
    assert isinstance(expiry.data, PaymentHoldExpired) and expiry.id == derived_id(payment.id, "payment_hold_expired")
    assert [e.id for e in expiries_due([state], at(31))] == [expiry.id]
    assert flow.when(expiry) == [
        RefundIssued(
            order_id=ORDER,
            amount=Decimal("20.00"),
            currency="EUR",
            reason=f"no order {ORDER} was placed for this payment",
            payment_id="p-1",
            cause="unmatched_payment",
        )
    ]
    assert flow.when(expiry) == [], "a second expiry is a no-op"
    flow.given(placed(ORDER, {MUG: 2}, paid=False))
    assert of_type(flow.last_outputs(), OrderAwaitingPayment) == [], "the placement's own outputs"
    assert state_of(flow).status == "awaiting_payment", "the refunded payment pays for nothing"
    assert refusals(flow.when(paid(ORDER, "20.00", payment_id="p-1", currency="EUR")))[0][0] == (
        "payment_already_refunded"
    )


def test_a_held_payment_in_the_wrong_currency_is_refused_at_placement() -> None:
    held = paid(ORDER, "20.00", payment_id="p-1", currency="USD")
    flow = orders().given(held)
    outputs = flow.when(placed(ORDER, {MUG: 2}, paid=False))
    assert [(r.refused_event_id, r.code) for r in of_type(outputs, OrderRequestRefused)] == [
        (str(held.id), "wrong_currency")
    ]
    assert state_of(flow).status == "awaiting_payment"


# --- captured at shipment ----------------------------------------------------------------------


def test_an_authorization_confirms_an_order_captured_at_shipment_and_each_parcel_captures_its_share() -> None:
    flow = orders().given(
        placed(ORDER, {MUG: 1, TEA: 1}, paid=False, split=True, capture="at_shipment", shipping_charge=Decimal("4.90"))
    )
    flow.given(paid(ORDER, "24.90", payment_id="p-1", kind="authorized"))
    assert payment_status(state_of(flow)) == "authorized"
    assert of_type(flow.when(reserved(ORDER, MUG, 1)), OrderConfirmed), "authorized covers it: it ships"
    outputs = flow.when(dispatched(ORDER, f"{ORDER}-S1", {MUG: 1}, tracking="T-1"))
    assert of_type(outputs, PaymentCaptureRequested) == [
        PaymentCaptureRequested(
            order_id=ORDER, payment_id="p-1", amount=Decimal("14.90"), currency="EUR", shipment_id=f"{ORDER}-S1"
        )
    ], "the first parcel carries the shipping charge"
    flow.given(reserved(ORDER, TEA, 1))
    outputs = flow.when(dispatched(ORDER, f"{ORDER}-S2", {TEA: 1}, tracking="T-2"))
    assert [c.amount for c in of_type(outputs, PaymentCaptureRequested)] == [Decimal("10.00")]
    assert of_type(flow.when(paid(ORDER, "24.90", payment_id="p-1")), PaymentRecorded)[0].captured == Decimal("24.90")
    assert payment_status(state_of(flow)) == "paid"


def test_cancelling_an_order_captured_at_shipment_voids_its_authorization() -> None:
    flow = orders().given(
        placed(ORDER, {MUG: 1}, paid=False, capture="at_shipment"),
        paid(ORDER, "10.00", payment_id="p-1", kind="authorized"),
    )
    assert of_type(flow.when(cancel_requested(ORDER)), PaymentVoidRequested) == [
        PaymentVoidRequested(
            order_id=ORDER,
            payment_id="p-1",
            amount=Decimal("10.00"),
            currency="EUR",
            reason="order cancelled: customer changed mind",
        )
    ]
    assert of_type(flow.last_outputs(), RefundIssued) == [], "nothing was captured, nothing to refund"
