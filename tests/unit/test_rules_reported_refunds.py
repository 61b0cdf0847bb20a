"""Refunds a shop made itself (`oms.refund.reported`): the order's ledger records them once, never more than
the payment captured, and never counts twice what a cancellation or change here already gave back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import partial

from events import Event, EventData, OrderAwaitingPayment, RefundIssued, RefundReported, ShipmentRequested
from pipeline.rules.order_status import balance, payment_status
from pipeline.rules.orders import OrderState, decide_order, next_deadline
from tests.unit.rules_support import (
    Flow,
    cancel_requested,
    change_requested,
    dispatched,
    event,
    of_type,
    placed,
    refusals,
    reserved,
    return_received,
)

ORDER = "SHOP-1"
PAYMENT = "shopify:5624593694771"
MUG, TEA = "MUG-1", "TEA-2"


def orders() -> Flow[OrderState]:
    return Flow(partial(decide_order, payment_timeout=timedelta(minutes=30)))


def shipped_paid_order() -> Flow[OrderState]:
    """Two mugs at 10.00, placed paid by the shop (payment `PAYMENT`), shipped."""
    return orders().given(
        placed(ORDER, {MUG: 2}, payment_id=PAYMENT),
        reserved(ORDER, MUG, 2),
        dispatched(ORDER, f"{ORDER}-S1", {MUG: 2}),
    )


def reported(
    amount: str, refund_id: str = "r-1", *, payment_id: str = PAYMENT, currency: str = "EUR"
) -> Event[EventData]:
    data = RefundReported(
        order_id=ORDER,
        payment_id=payment_id,
        refund_id=refund_id,
        amount=Decimal(amount),
        currency=currency,
        reason="goodwill",
    )
    return event(data)


def refunded(flow: Flow[OrderState]) -> Decimal:
    assert flow.state is not None
    return sum((payment.refunded for payment in flow.state.payments), Decimal(0))


def test_a_reported_refund_is_recorded_against_its_payment_and_announced_as_already_given_back() -> None:
    flow = shipped_paid_order()
    outputs = flow.when(reported("5.00"))
    assert of_type(outputs, RefundIssued) == [
        RefundIssued(
            order_id=ORDER,
            amount=Decimal("5.00"),
            currency="EUR",
            reason="goodwill",
            payment_id=PAYMENT,
            cause="reported",
        )
    ]
    assert flow.state is not None and payment_status(flow.state) == "partially_refunded"


def test_the_same_refund_reported_again_in_a_new_envelope_counts_once() -> None:
    flow = shipped_paid_order().given(reported("5.00", "r-1"))
    before = flow.state
    assert flow.when(reported("5.00", "r-1")) == []
    assert flow.state == before
    assert of_type(flow.when(reported("5.00", "r-2")), RefundIssued)[0].amount == 5, "another refund is more money"
    assert refunded(flow) == 10


def test_reports_of_more_than_the_payment_captured_are_refused_and_change_nothing() -> None:
    flow = shipped_paid_order().given(reported("15.00", "r-1"))
    before = flow.state
    assert refusals(flow.when(reported("5.01", "r-2"))) == [
        ("payment_conflict", f"payment {PAYMENT} captured 20.00; refunds of 20.01 in all cannot be recorded against it")
    ]
    assert flow.state == before


def test_a_refund_of_an_unknown_payment_or_in_another_currency_is_refused() -> None:
    flow = shipped_paid_order()
    assert refusals(flow.when(reported("5.00", payment_id="pi_other"))) == [
        ("payment_conflict", f"order {ORDER} has no payment pi_other that refund could be of")
    ]
    assert refusals(flow.when(reported("5.00", currency="USD"))) == [
        ("wrong_currency", "refund r-1 of 5.00 USD is not in the order's currency EUR; it was not recorded")
    ]
    assert refunded(flow) == 0


def test_the_shop_refunding_what_a_cancellation_here_gave_back_is_not_money_back_twice() -> None:
    flow = orders().given(placed(ORDER, {MUG: 2}, payment_id=PAYMENT), cancel_requested(ORDER))
    assert refunded(flow) == 20
    assert flow.when(reported("20.00")) == []
    assert refunded(flow) == 20


def test_a_cancellation_after_the_shop_refunded_everything_gives_nothing_back_again() -> None:
    flow = orders().given(placed(ORDER, {MUG: 2}, payment_id=PAYMENT), reported("20.00"))
    assert of_type(flow.when(cancel_requested(ORDER)), RefundIssued) == []
    assert refunded(flow) == 20
    assert flow.state is not None and flow.state.status == "cancelled"


def test_a_cancellation_after_a_partial_shop_refund_gives_back_the_rest() -> None:
    """Found when the views were built: 20.00 paid, 5.00 refunded by the shop, then cancelled: 10.00 came back in
    all, not 20.00 (the concession was taken off the cancellation's refund although it no longer lowered the
    order's cost, which was nothing)."""
    flow = orders().given(placed(ORDER, {MUG: 2}, payment_id=PAYMENT), reported("5.00"))
    refunds = of_type(flow.when(cancel_requested(ORDER)), RefundIssued)
    assert [refund.amount for refund in refunds] == [Decimal("15.00")]
    assert refunded(flow) == 20
    assert flow.state is not None and balance(flow.state) == 0


def test_a_change_and_the_shops_refund_of_it_settle_to_one_refund_in_either_order() -> None:
    change = change_requested(ORDER, {TEA: 0})
    refund = reported("5.00")
    for first, second in ((change, refund), (refund, change)):
        flow = orders().given(placed(ORDER, {MUG: 1, TEA: 1}, prices={TEA: "5.00"}, payment_id=PAYMENT))
        outputs = [*flow.when(first), *flow.when(second)]
        assert [r.amount for r in of_type(outputs, RefundIssued)] == [5], f"{first.type} then {second.type}"
        assert of_type(outputs, OrderAwaitingPayment) == [], "the customer is never asked for the shop's refund"
        assert refunded(flow) == 5 and flow.state is not None and balance(flow.state) == 0


def test_a_goodwill_refund_before_shipping_is_not_owed_the_order_still_ships() -> None:
    flow = orders().given(placed(ORDER, {MUG: 2}, payment_id=PAYMENT))
    outputs = [*flow.when(reported("3.00")), *flow.when(reserved(ORDER, MUG, 2))]
    assert of_type(outputs, OrderAwaitingPayment) == []
    assert of_type(outputs, ShipmentRequested), "paid for, less what the shop gave back of its own accord"
    assert flow.state is not None and next_deadline(flow.state) is None, "never cancelled for non-payment"


def test_a_return_the_shop_refunded_before_inspection_is_not_refunded_again() -> None:
    flow = shipped_paid_order().given(reported("10.00"), return_received(ORDER, {MUG: 1}, resellable=True))
    assert refunded(flow) == 10
    assert flow.state is not None and balance(flow.state) == 0
