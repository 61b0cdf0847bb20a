"""After-sales rules: given a shipped order, when goods come back, then these events come out."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import partial

from events import (
    LineQty,
    NotificationRequested,
    OrderAwaitingPayment,
    OrderChanged,
    OrderLine,
    RefundIssued,
    ReturnAuthorized,
    ReturnRecorded,
    StockReservationRequested,
    StockReturned,
)
from events.notifications import NotificationKind
from pipeline.rules.order_status import payment_status
from pipeline.rules.orders import OrderState, decide_order
from tests.unit.rules_support import (
    T0,
    Flow,
    dispatched,
    of_type,
    paid,
    placed,
    refusals,
    reserved,
    return_inspected,
    return_received,
    return_requested,
)

TIMEOUT = timedelta(minutes=30)
ORDER = "o-400"
RMA1, RMA2 = f"{ORDER}-R1", f"{ORDER}-R2"
MUG, TEA, JAM = "MUG-1", "TEA-2", "JAM-3"


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


def shipped(lines: dict[str, int], **options: object) -> Flow[OrderState]:
    """A prepaid order at 10.00 a unit, reserved and dispatched in one parcel."""
    flow = orders().given(placed(ORDER, lines, **options))
    flow.given(*(reserved(ORDER, sku, qty) for sku, qty in lines.items()))
    return flow.given(dispatched(ORDER, f"{ORDER}-S1", lines))


def refunded(outputs: list[object]) -> list[Decimal]:
    return [refund.amount for refund in of_type(outputs, RefundIssued)]  # type: ignore[arg-type]


def status(flow: Flow[OrderState]) -> str:
    assert flow.state is not None
    return flow.state.status


def test_a_return_is_authorized_received_inspected_restocked_and_refunded_one_step_at_a_time() -> None:
    flow = shipped({MUG: 2})
    assert flow.when(return_requested(ORDER, {MUG: 1}, reason="chipped")) == [
        ReturnAuthorized(order_id=ORDER, rma=RMA1, lines=(LineQty(sku=MUG, qty=1),), reason="chipped"),
        note("return_authorized", rma=RMA1),
    ]
    assert flow.when(return_received(ORDER, {MUG: 1}, resellable=None, rma=RMA1)) == [
        ReturnRecorded(order_id=ORDER, rma=RMA1, lines=(LineQty(sku=MUG, qty=1),), inspected=False),
        note("return_received", rma=RMA1),
    ]
    assert status(flow) == "partially_returned"
    assert flow.when(return_inspected(ORDER, RMA1, resellable={MUG: 1})) == [
        StockReturned(sku=MUG, order_id=ORDER, qty=1),
        RefundIssued(
            order_id=ORDER,
            amount=Decimal("10.00"),
            currency="EUR",
            reason="chipped",
            payment_id=f"{ORDER}:placement",
            cause="return",
            lines=(LineQty(sku=MUG, qty=1),),
            rma=RMA1,
        ),
        note("refunded", rma=RMA1, amount="10.00", currency="EUR"),
    ]
    assert flow.state is not None and payment_status(flow.state) == "partially_refunded"


def test_only_resellable_units_go_back_on_the_shelf_but_every_inspected_unit_is_refunded() -> None:
    flow = shipped({MUG: 2}).given(return_received(ORDER, {MUG: 2}, resellable=None))
    outputs = flow.when(return_inspected(ORDER, RMA1, resellable={MUG: 1}, unsellable={MUG: 1}))
    assert of_type(outputs, StockReturned) == [StockReturned(sku=MUG, order_id=ORDER, qty=1)]
    assert refunded(outputs) == [Decimal("20.00")]
    assert status(flow) == "returned"


def test_goods_back_without_an_authorization_get_one() -> None:
    outputs = shipped({MUG: 2}).when(return_received(ORDER, {MUG: 1}, resellable=True))
    assert of_type(outputs, ReturnAuthorized) == [
        ReturnAuthorized(order_id=ORDER, rma=RMA1, lines=(LineQty(sku=MUG, qty=1),), reason="returned goods received")
    ]


def test_rma_numbers_count_per_order_and_what_is_announced_cannot_be_announced_twice() -> None:
    flow = shipped({MUG: 2}).given(return_requested(ORDER, {MUG: 1}))
    assert [a.rma for a in of_type(flow.when(return_requested(ORDER, {MUG: 1})), ReturnAuthorized)] == [RMA2]
    assert refusals(flow.when(return_requested(ORDER, {MUG: 1}))) == [
        ("not_returnable", "cannot return 1 x MUG-1 of order o-400: 2 shipped, 0 returned already, 2 on open returns")
    ]


def test_receipts_and_inspections_must_match_their_authorization() -> None:
    flow = shipped({MUG: 2}).given(return_requested(ORDER, {MUG: 1}))
    before = flow.state
    assert refusals(flow.when(return_received(ORDER, {MUG: 1}, rma=f"{ORDER}-R9"))) == [
        ("unknown_return", "order o-400 has no return o-400-R9")
    ]
    assert refusals(flow.when(return_received(ORDER, {MUG: 2}, rma=RMA1))) == [
        ("not_returnable", "cannot receive 2 x MUG-1 on o-400-R1: 1 still expected")
    ]
    assert refusals(flow.when(return_inspected(ORDER, RMA1, resellable={MUG: 1}))) == [
        ("not_returnable", "cannot inspect 1 x MUG-1 of o-400-R1: 0 received")
    ]
    assert flow.state == before


def test_a_return_refunds_what_was_paid_after_the_discount_not_the_list_price() -> None:
    flow = shipped({MUG: 2, TEA: 1}, discount=Decimal("6.00"))
    assert refunded(flow.when(return_received(ORDER, {MUG: 1}))) == [Decimal("8.00")]
    assert refunded(flow.when(return_received(ORDER, {MUG: 1, TEA: 1}))) == [Decimal("16.00")]


def test_unit_by_unit_returns_add_up_to_what_the_line_cost() -> None:
    flow = shipped({MUG: 3}, discount=Decimal("1.00"))
    amounts = [refunded(flow.when(return_received(ORDER, {MUG: 1})))[0] for _ in range(3)]
    assert amounts == [Decimal("9.67"), Decimal("9.66"), Decimal("9.67")], "rounded cumulatively: 9.67, 19.33, 29.00"
    assert sum(amounts) == Decimal("29.00")


def test_shipping_is_not_given_back_for_returns() -> None:
    flow = shipped({MUG: 2}, shipping_charge=Decimal("4.90"))
    assert refunded(flow.when(return_received(ORDER, {MUG: 2}))) == [Decimal("20.00")]
    assert flow.state is not None and payment_status(flow.state) == "partially_refunded"


def test_a_return_of_an_order_paid_by_two_payments_is_shared_pro_rata() -> None:
    flow = orders().given(
        placed(ORDER, {MUG: 3}, paid=False),
        paid(ORDER, "10.00", payment_id="p-1"),
        paid(ORDER, "20.00", payment_id="p-2"),
        reserved(ORDER, MUG, 3),
        dispatched(ORDER, f"{ORDER}-S1", {MUG: 3}),
    )
    refunds = of_type(flow.when(return_received(ORDER, {MUG: 1})), RefundIssued)
    assert [(r.payment_id, r.amount) for r in refunds] == [("p-1", Decimal("3.33")), ("p-2", Decimal("6.67"))]


# --- exchanges -----------------------------------------------------------------------------------


def test_an_exchange_for_a_dearer_item_adds_the_replacement_and_the_difference_is_due() -> None:
    flow = shipped({MUG: 1})
    flow.given(return_requested(ORDER, {MUG: 1}, "wrong colour", replacements={JAM: (1, "15.00")}))
    outputs = flow.when(return_received(ORDER, {MUG: 1}))
    assert of_type(outputs, OrderChanged) == [
        OrderChanged(
            order_id=ORDER,
            lines=(
                OrderLine(sku=MUG, qty=1, unit_price=Decimal("10.00")),
                OrderLine(sku=JAM, qty=1, unit_price=Decimal("15.00")),
            ),
            shipping_address=flow.state.shipping_address if flow.state else None,
            total=Decimal("15.00"),
            reason=f"exchange {RMA1}",
        )
    ]
    assert of_type(outputs, StockReservationRequested) == [
        StockReservationRequested(sku=JAM, order_id=ORDER, qty=1, placed_at=T0)
    ]
    assert refunded(outputs) == []
    assert [a.amount_due for a in of_type(outputs, OrderAwaitingPayment)] == [Decimal("5.00")]


def test_an_exchange_for_a_cheaper_item_refunds_the_difference() -> None:
    flow = shipped({MUG: 1}).given(return_requested(ORDER, {MUG: 1}, replacements={JAM: (1, "4.00")}))
    refunds = of_type(flow.when(return_received(ORDER, {MUG: 1})), RefundIssued)
    assert [(r.amount, r.cause, r.rma) for r in refunds] == [(Decimal("6.00"), "exchange", RMA1)]


def test_an_exchange_for_a_sku_the_order_has_is_refused() -> None:
    flow = shipped({MUG: 1, TEA: 1})
    assert refusals(flow.when(return_requested(ORDER, {MUG: 1}, replacements={TEA: (1, "10.00")}))) == [
        ("invalid_change", "TEA-2 is on order o-400 already; exchange it for another sku")
    ]
