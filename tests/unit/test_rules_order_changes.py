"""Changing an order before it ships: given an order, when a change is asked for, then these events come out."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import partial

from events import (
    Address,
    LineQty,
    NotificationRequested,
    OrderAwaitingPayment,
    OrderBackorderCleared,
    OrderCancelled,
    OrderChanged,
    OrderConfirmed,
    OrderLine,
    RefundIssued,
    ShipmentRequested,
    StockReleaseRequested,
    StockReservationRequested,
)
from events.notifications import NotificationKind
from pipeline.rules.orders import OrderState, decide_order
from tests.unit.rules_support import (
    ADDRESS,
    T0,
    Flow,
    at,
    change_requested,
    dispatched,
    failed,
    of_type,
    paid,
    placed,
    refusals,
    reserved,
)

TIMEOUT = timedelta(minutes=30)
ORDER = "o-300"
MUG, TEA, JAM = "MUG-1", "TEA-2", "JAM-3"
ELSEWHERE = Address(line1="1 Rue de Rivoli", city="Paris", country="FR")


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


def lines(**qtys: int) -> tuple[OrderLine, ...]:
    skus = {"MUG": MUG, "TEA": TEA, "JAM": JAM}
    return tuple(OrderLine(sku=skus[name], qty=qty, unit_price=Decimal("10.00")) for name, qty in qtys.items())


def waiting_for_tea() -> Flow[OrderState]:
    """Prepaid 30.00: two mugs reserved, the tea backordered; nothing handed to shipping yet."""
    return orders().given(placed(ORDER, {MUG: 2, TEA: 1}), reserved(ORDER, MUG, 2), failed(ORDER, TEA, 1))


def test_cancelling_a_waiting_line_releases_it_refunds_its_price_and_ships_the_rest() -> None:
    flow = waiting_for_tea()
    assert flow.when(change_requested(ORDER, {TEA: 0}, reason="too slow")) == [
        OrderChanged(
            order_id=ORDER,
            lines=lines(MUG=2),
            cancelled_skus=(TEA,),
            shipping_address=ADDRESS,
            total=Decimal("20.00"),
            reason="too slow",
        ),
        StockReleaseRequested(sku=TEA, order_id=ORDER, reason="too slow"),
        RefundIssued(
            order_id=ORDER,
            amount=Decimal("10.00"),
            currency="EUR",
            reason="order changed: too slow",
            payment_id=f"{ORDER}:placement",
            cause="change",
        ),
        note("payment_refunded", reason="too slow", amount="10.00", currency="EUR"),
        OrderConfirmed(order_id=ORDER, skus=(MUG,)),
        ShipmentRequested(
            order_id=ORDER, shipment_id=f"{ORDER}-S1", lines=(LineQty(sku=MUG, qty=2),), shipping_address=ADDRESS
        ),
        note("confirmed"),
    ]
    assert flow.state is not None and flow.state.status == "shipment_requested"


def test_a_larger_quantity_asks_the_inventory_again_and_the_difference_is_due() -> None:
    flow = orders().given(placed(ORDER, {MUG: 1}), failed(ORDER, MUG, 1))
    assert flow.when(change_requested(ORDER, {MUG: 3})) == [
        OrderChanged(
            order_id=ORDER,
            lines=lines(MUG=3),
            shipping_address=ADDRESS,
            total=Decimal("30.00"),
            reason="customer asked",
        ),
        StockReservationRequested(sku=MUG, order_id=ORDER, qty=3, placed_at=T0, revision=1),
        OrderAwaitingPayment(order_id=ORDER, payment_due_at=at(30), amount_due=Decimal("20.00")),
        note("awaiting_payment", amount_due="20.00", currency="EUR", payment_due_at=at(30).isoformat()),
    ]
    assert flow.when(reserved(ORDER, MUG, 1, from_backorder=True)) == [], "the answer to the old request is stale"
    assert flow.when(reserved(ORDER, MUG, 3, revision=1)) == [], "reserved, but the difference is not paid yet"
    assert of_type(flow.when(paid(ORDER, "20.00", payment_id="p-2")), ShipmentRequested)[0].lines == (
        LineQty(sku=MUG, qty=3),
    )


def test_a_smaller_quantity_refunds_the_difference_pro_rata_of_the_payments() -> None:
    flow = orders().given(
        placed(ORDER, {MUG: 3}, paid=False),
        paid(ORDER, "10.00", payment_id="p-1"),
        paid(ORDER, "20.00", payment_id="p-2"),
    )
    refunds = of_type(flow.when(change_requested(ORDER, {MUG: 2})), RefundIssued)
    assert [(r.payment_id, r.amount) for r in refunds] == [("p-1", Decimal("3.33")), ("p-2", Decimal("6.67"))]


def test_a_line_handed_to_shipping_cannot_change_and_the_whole_request_is_refused() -> None:
    flow = orders().given(placed(ORDER, {MUG: 2, TEA: 1}, split=True), reserved(ORDER, MUG, 2), failed(ORDER, TEA, 1))
    before = flow.state
    assert refusals(flow.when(change_requested(ORDER, {MUG: 1, TEA: 0}))) == [
        ("line_handed_to_shipping", "MUG-1 of order o-300 was handed to shipping (o-300-S1); return it instead")
    ]
    assert flow.state == before


def test_a_new_address_is_used_by_the_shipments_requested_after_it() -> None:
    flow = waiting_for_tea()
    changed = of_type(flow.when(change_requested(ORDER, {}, address=ELSEWHERE)), OrderChanged)
    assert [c.shipping_address for c in changed] == [ELSEWHERE]
    assert [r.shipping_address for r in of_type(flow.when(reserved(ORDER, TEA, 1)), ShipmentRequested)] == [ELSEWHERE]
    assert refusals(flow.when(change_requested(ORDER, {}, address=ADDRESS))) == [
        ("line_handed_to_shipping", "every line of order o-300 was handed to shipping")
    ]


def test_a_new_line_needs_a_price_and_then_asks_for_stock_from_now() -> None:
    flow = waiting_for_tea()
    assert refusals(flow.when(change_requested(ORDER, {JAM: 1}))) == [
        ("invalid_change", "JAM-3 is not on order o-300: a new line needs a unit_price")
    ]
    outputs = flow.when(change_requested(ORDER, {JAM: 1}, prices={JAM: "10.00"}))
    assert of_type(outputs, StockReservationRequested) == [
        StockReservationRequested(sku=JAM, order_id=ORDER, qty=1, placed_at=T0)
    ]
    assert of_type(outputs, OrderAwaitingPayment)[0].amount_due == Decimal("10.00")


def test_taking_every_line_off_cancels_the_order() -> None:
    outputs = waiting_for_tea().when(change_requested(ORDER, {MUG: 0, TEA: 0}, reason="changed my mind"))
    assert of_type(outputs, OrderCancelled) == [OrderCancelled(order_id=ORDER, reason="changed my mind")]
    assert [r.amount for r in of_type(outputs, RefundIssued)] == [Decimal("30.00")]


def test_a_change_that_changes_nothing_is_refused() -> None:
    assert refusals(waiting_for_tea().when(change_requested(ORDER, {MUG: 2}))) == [
        ("nothing_to_change", "order o-300 is already as requested")
    ]


def test_a_cancelled_order_cannot_change() -> None:
    flow = waiting_for_tea().given(change_requested(ORDER, {MUG: 0, TEA: 0}))
    assert [code for code, _ in refusals(flow.when(change_requested(ORDER, {MUG: 1})))] == ["order_cancelled"]


def test_a_line_cancelled_on_a_split_order_after_the_first_parcel_left_refunds_only_that_line() -> None:
    flow = orders().given(
        placed(ORDER, {MUG: 2, TEA: 1}, split=True),
        reserved(ORDER, MUG, 2),
        failed(ORDER, TEA, 1),
        dispatched(ORDER, f"{ORDER}-S1", {MUG: 2}, tracking="T-1"),
    )
    outputs = flow.when(change_requested(ORDER, {TEA: 0}))
    assert [(r.amount, r.cause) for r in of_type(outputs, RefundIssued)] == [(Decimal("10.00"), "change")]
    assert flow.state is not None and flow.state.status == "shipped", "everything left on the order has left"


def test_stock_for_a_waiting_line_of_an_unpaid_order_is_told_and_a_new_wait_is_announced_again() -> None:
    """Found when the views were built: a backordered line that got its stock while the order waited for money
    emitted nothing, so the view kept it backordered; and the order remembered its last backorder announcement
    for good, so the same wait later was never told."""
    flow = orders().given(placed(ORDER, {MUG: 1}, paid=False), failed(ORDER, MUG, 1))
    assert flow.when(reserved(ORDER, MUG, 1, from_backorder=True)) == [
        OrderBackorderCleared(order_id=ORDER, skus=(MUG,))
    ]
    assert flow.state is not None and flow.state.announced_backorder == ()
