"""Partial states per parcel and per line, and till sales: given an order, when parcels move (or the
customer takes the goods at the till), then these events come out and this is its status."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import partial
from itertools import permutations

from events import (
    Customer,
    Event,
    EventData,
    LineQty,
    NotificationRequested,
    OrderConfirmed,
    OrderDelivered,
    OrderHandedOver,
    RefundIssued,
    ShipmentRequested,
    StockCommitRequested,
)
from pipeline.rules.orders import OrderState, decide_order
from tests.unit.rules_support import (
    Flow,
    at,
    cancel_requested,
    delivered,
    dispatched,
    failed,
    of_type,
    paid,
    placed,
    refusals,
    reserved,
    return_received,
)

TIMEOUT = timedelta(minutes=30)
ORDER = "o-500"
MUG, TEA = "MUG-1", "TEA-2"


def orders() -> Flow[OrderState]:
    return Flow(partial(decide_order, payment_timeout=TIMEOUT))


def status(flow: Flow[OrderState]) -> str:
    assert flow.state is not None
    return flow.state.status


def two_parcels() -> Flow[OrderState]:
    return orders().given(
        placed(ORDER, {MUG: 1, TEA: 1}, split=True), reserved(ORDER, MUG, 1), failed(ORDER, TEA, 1, at(days=2))
    )


def test_each_parcel_keeps_its_own_tracking_and_the_order_status_follows_them() -> None:
    flow = two_parcels()
    assert status(flow) == "shipment_requested"
    flow.given(dispatched(ORDER, f"{ORDER}-S1", {MUG: 1}, tracking="T-1"))
    assert status(flow) == "partially_shipped"
    flow.given(reserved(ORDER, TEA, 1, from_backorder=True), dispatched(ORDER, f"{ORDER}-S2", {TEA: 1}, tracking="T-2"))
    assert status(flow) == "shipped"
    assert flow.state is not None
    assert [(s.shipment_id, s.tracking_number, s.delivered) for s in flow.state.shipments] == [
        (f"{ORDER}-S1", "T-1", False),
        (f"{ORDER}-S2", "T-2", False),
    ]


def test_delivery_of_the_first_of_two_parcels_is_partial_and_the_notice_names_that_parcel() -> None:
    flow = two_parcels().given(
        dispatched(ORDER, f"{ORDER}-S1", {MUG: 1}, tracking="T-1"),
        reserved(ORDER, TEA, 1, from_backorder=True),
        dispatched(ORDER, f"{ORDER}-S2", {TEA: 1}, tracking="T-2"),
    )
    outputs = flow.when(delivered(ORDER, "T-1", when=at(days=3)))
    assert of_type(outputs, OrderDelivered) == [
        OrderDelivered(
            order_id=ORDER, delivered_at=at(days=3), shipment_id=f"{ORDER}-S1", tracking_number="T-1", complete=False
        )
    ]
    assert of_type(outputs, NotificationRequested)[0].params["tracking_number"] == "T-1"
    assert status(flow) == "partially_delivered"
    assert [d.complete for d in of_type(flow.when(delivered(ORDER, "T-2")), OrderDelivered)] == [True]
    assert status(flow) == "delivered"


def test_a_parcel_delivered_while_the_other_line_still_waits_is_partially_delivered() -> None:
    flow = two_parcels().given(dispatched(ORDER, f"{ORDER}-S1", {MUG: 1}, tracking="T-1"))
    assert [d.complete for d in of_type(flow.when(delivered(ORDER, "T-1")), OrderDelivered)] == [False]
    assert status(flow) == "partially_delivered"


# --- till sales ----------------------------------------------------------------------------------


def till_sale(customer: Customer | None = None, *, paid_at_till: bool = True) -> Event[EventData]:
    return placed(ORDER, {MUG: 1}, channel="pos", customer=customer or Customer(), paid=paid_at_till)


def test_a_till_sale_is_handed_over_at_once_with_no_carrier_and_no_message_to_a_walk_in() -> None:
    flow = orders().given(till_sale())
    assert flow.when(reserved(ORDER, MUG, 1)) == [
        OrderConfirmed(order_id=ORDER, skus=(MUG,)),
        OrderHandedOver(order_id=ORDER, lines=(LineQty(sku=MUG, qty=1),)),
        StockCommitRequested(sku=MUG, order_id=ORDER, qty=1),
    ]
    assert status(flow) == "completed"
    assert refusals(flow.when(cancel_requested(ORDER)))[0][0] == "too_late_to_cancel"


def test_the_old_walk_in_placeholder_address_gets_no_message_either() -> None:
    flow = orders().given(till_sale(Customer(email="walk-in@pos.invalid")))
    assert of_type(flow.when(reserved(ORDER, MUG, 1)), NotificationRequested) == []


def test_a_till_customer_who_gave_a_real_address_gets_a_receipt_message() -> None:
    flow = orders().given(till_sale(Customer(email="mara@example.com", name="Mara")))
    notices = of_type(flow.when(reserved(ORDER, MUG, 1)), NotificationRequested)
    assert [(n.kind, n.recipient) for n in notices] == [("handed_over", "mara@example.com")]
    assert of_type(flow.last_outputs(), ShipmentRequested) == []


def test_goods_sold_at_the_till_can_come_back() -> None:
    flow = orders().given(till_sale(), reserved(ORDER, MUG, 1))
    assert [r.amount for r in of_type(flow.when(return_received(ORDER, {MUG: 1})), RefundIssued)] == [Decimal("10.00")]
    assert status(flow) == "returned"


def test_a_till_sale_is_handed_over_once_whichever_of_payment_and_stock_comes_last() -> None:
    sale = till_sale(paid_at_till=False)
    inputs = [reserved(ORDER, MUG, 1), paid(ORDER, "10.00", payment_id="till-1")]
    ids = set()
    for order in permutations(inputs):
        state = decide_order(None, sale, at(), payment_timeout=TIMEOUT).state
        handed = []
        for happening in order:
            decision = decide_order(state, happening, at(), payment_timeout=TIMEOUT)
            state = decision.state
            handed += [e.id for e in decision.emitted if isinstance(e.data, OrderHandedOver)]
        ids.update(handed)
    assert len(ids) == 1
