"""Order rules: given order events, when one more arrives, then these events come out."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest

from events import (
    BackorderedLine,
    Event,
    EventData,
    LineQty,
    NotificationRequested,
    OrderAwaitingPayment,
    OrderBackorderCleared,
    OrderBackordered,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderRequestRefused,
    OrderShipped,
    PaymentRecorded,
    RefundIssued,
    ReturnAuthorized,
    ReturnRecorded,
    ShipmentRequested,
    StockCommitRequested,
    StockReleased,
    StockReleaseRequested,
    StockReservationRequested,
    StockReturned,
    derived_id,
)
from events.notifications import NotificationKind
from pipeline.rules.common import Rejected
from pipeline.rules.order_state import shipment_id_for
from pipeline.rules.orders import OrderState, decide_order, is_payment_overdue, payment_expired
from pipeline.rules.phrasebook import PAID_AFTER_CANCEL
from tests.unit.rules_support import (
    ADDRESS,
    T0,
    Flow,
    at,
    cancel_requested,
    delivered,
    dispatched,
    event,
    failed,
    of_type,
    paid,
    placed,
    refusals,
    reserved,
    return_received,
    return_requested,
)

TIMEOUT = timedelta(minutes=30)
ORDER = "o-100"
MUG, TEA = "MUG-1", "TEA-2"
ETA1, ETA2 = at(days=3), at(days=8)


def orders(*, split_shipments: bool = False) -> Flow[OrderState]:
    return Flow(partial(decide_order, payment_timeout=TIMEOUT, split_shipments=split_shipments))


def note(kind: NotificationKind, **params: str) -> NotificationRequested:
    return NotificationRequested(
        order_id=ORDER,
        kind=kind,
        recipient="ada@example.com",
        recipient_name="Ada",
        language="en",
        params={"order_id": ORDER, "name": "Ada", **params},
    )


def status(flow: Flow[OrderState]) -> str:
    assert flow.state is not None
    return flow.state.status


def shipped_two_line_order() -> Flow[OrderState]:
    return orders().given(
        placed(ORDER, {MUG: 2, TEA: 1}, price="49.50"),
        reserved(ORDER, MUG, 2),
        reserved(ORDER, TEA, 1),
        dispatched(ORDER, f"{ORDER}-S1", {MUG: 2, TEA: 1}),
    )


# --- placing, reserving, confirming ----------------------------------------------------------


def test_a_placed_order_asks_for_stock_line_by_line() -> None:
    assert orders().when(placed(ORDER, {MUG: 2, TEA: 1})) == [
        StockReservationRequested(sku=MUG, order_id=ORDER, qty=2, placed_at=T0),
        StockReservationRequested(sku=TEA, order_id=ORDER, qty=1, placed_at=T0),
    ]


def test_a_paid_two_line_order_is_confirmed_and_shipment_requested_when_both_lines_are_reserved() -> None:
    flow = orders().given(placed(ORDER, {MUG: 2, TEA: 1}))
    assert flow.when(reserved(ORDER, MUG, 2)) == []
    assert flow.when(reserved(ORDER, TEA, 1)) == [
        OrderConfirmed(order_id=ORDER, skus=(MUG, TEA)),
        ShipmentRequested(
            order_id=ORDER,
            shipment_id=f"{ORDER}-S1",
            lines=(LineQty(sku=MUG, qty=2), LineQty(sku=TEA, qty=1)),
            shipping_address=ADDRESS,
        ),
        note("confirmed"),
    ]
    assert status(flow) == "shipment_requested"
    assert flow.when(reserved(ORDER, TEA, 1)) == [], "a repeated reply changes nothing"


def test_a_second_order_placed_for_the_same_order_is_ignored() -> None:
    flow = orders().given(placed(ORDER, {MUG: 1}))
    before = flow.state
    assert flow.when(placed(ORDER, {MUG: 5})) == []
    assert flow.state == before


# --- payment ---------------------------------------------------------------------------------


def test_an_unpaid_order_awaits_payment_then_expires_and_is_cancelled_with_releases() -> None:
    order = placed(ORDER, {MUG: 2, TEA: 1}, paid=False, time=at(0))
    flow = orders()
    outputs = flow.when(order)
    assert of_type(outputs, OrderAwaitingPayment) == [
        OrderAwaitingPayment(order_id=ORDER, payment_due_at=at(30), amount_due=Decimal("30.00"))
    ]
    flow.given(reserved(ORDER, MUG, 2), reserved(ORDER, TEA, 1))
    state = flow.state
    assert state is not None and state.status == "awaiting_payment"
    assert not is_payment_overdue(state, at(29))
    assert is_payment_overdue(state, at(30))

    expiry = payment_expired(state, at(31))
    assert expiry.id == derived_id(order.id, "payment_expired") == payment_expired(state, at(45)).id
    assert (expiry.subject, expiry.causationid, expiry.correlationid) == (ORDER, str(order.id), str(order.id))
    assert flow.when(expiry) == [
        OrderCancelled(order_id=ORDER, reason="payment timeout"),
        StockReleaseRequested(sku=MUG, order_id=ORDER, reason="payment timeout"),
        StockReleaseRequested(sku=TEA, order_id=ORDER, reason="payment timeout"),
        note("cancelled", reason="payment timeout"),
    ]
    assert flow.state is not None and not is_payment_overdue(flow.state, at(60))
    assert flow.when(expiry) == [], "a second expiry is a no-op"


def test_a_payment_before_the_deadline_confirms_and_the_expiry_does_nothing() -> None:
    flow = orders().given(placed(ORDER, {MUG: 1}, paid=False), reserved(ORDER, MUG, 1))
    assert [type(data).__name__ for data in flow.when(paid(ORDER))] == [
        "PaymentRecorded",
        "OrderConfirmed",
        "ShipmentRequested",
        "NotificationRequested",
    ]
    assert flow.state is not None and not is_payment_overdue(flow.state, at(60))
    assert flow.when(payment_expired(flow.state, at(60))) == []


def test_a_payment_after_cancellation_is_refunded_to_that_payment_and_the_customer_told() -> None:
    flow = orders().given(placed(ORDER, {MUG: 1}, paid=False), cancel_requested(ORDER))
    reason = "paid after the order was cancelled (customer changed mind)"
    assert flow.when(paid(ORDER, payment_id="psp-7")) == [
        PaymentRecorded(
            order_id=ORDER,
            payment_id="psp-7",
            kind="captured",
            amount=Decimal("10.00"),
            currency="EUR",
            captured=Decimal("10.00"),
            refunded=Decimal(0),
            balance_due=Decimal(0),
        ),
        RefundIssued(
            order_id=ORDER,
            amount=Decimal("10.00"),
            currency="EUR",
            reason=reason,
            payment_id="psp-7",
            cause="late_payment",
        ),
        note("payment_refunded", reason=PAID_AFTER_CANCEL, amount="10.00", currency="EUR"),
    ]
    assert status(flow) == "cancelled"


# --- backorders ------------------------------------------------------------------------------


def test_a_failed_line_backorders_the_order_with_the_latest_eta_once() -> None:
    flow = orders().given(placed(ORDER, {MUG: 2, TEA: 1}), failed(ORDER, MUG, 2, ETA1))
    assert status(flow) == "backordered"
    outputs = flow.when(failed(ORDER, TEA, 1, ETA2))
    assert outputs == [
        OrderBackordered(
            order_id=ORDER,
            eta=ETA2,
            lines=(BackorderedLine(sku=MUG, qty=2, eta=ETA1), BackorderedLine(sku=TEA, qty=1, eta=ETA2)),
        ),
        note("backordered", eta="2026-03-10"),
    ]
    assert flow.when(failed(ORDER, TEA, 1, ETA2)) == [], "same lines, same eta: nothing new to tell"


def test_an_unknown_line_eta_makes_the_order_eta_unknown() -> None:
    flow = orders().given(placed(ORDER, {MUG: 2, TEA: 1}), failed(ORDER, MUG, 2, ETA1))
    backordered = of_type(flow.when(failed(ORDER, TEA, 1, None)), OrderBackordered)
    assert [b.eta for b in backordered] == [None]
    assert of_type(flow.last_outputs(), NotificationRequested)[0].params == {"order_id": ORDER, "name": "Ada"}


def test_a_new_eta_for_a_waiting_line_is_announced_and_restock_confirms() -> None:
    flow = orders().given(placed(ORDER, {MUG: 2}), failed(ORDER, MUG, 2, None))
    assert of_type(flow.when(failed(ORDER, MUG, 2, ETA1)), OrderBackordered) == [
        OrderBackordered(order_id=ORDER, eta=ETA1, lines=(BackorderedLine(sku=MUG, qty=2, eta=ETA1),))
    ]
    outputs = flow.when(reserved(ORDER, MUG, 2, from_backorder=True))
    assert [type(data).__name__ for data in outputs] == [
        "OrderBackorderCleared",
        "OrderConfirmed",
        "ShipmentRequested",
        "NotificationRequested",
    ]
    assert flow.state is not None and [(line.stock, line.eta) for line in flow.state.lines] == [("reserved", None)]


# --- split shipments -------------------------------------------------------------------------


def test_split_policy_ships_reserved_lines_at_once_and_the_rest_later() -> None:
    flow = orders().given(placed(ORDER, {MUG: 2, TEA: 1}, split=True))
    assert flow.when(reserved(ORDER, MUG, 2)) == [
        OrderConfirmed(order_id=ORDER, skus=(MUG,)),
        ShipmentRequested(
            order_id=ORDER, shipment_id=f"{ORDER}-S1", lines=(LineQty(sku=MUG, qty=2),), shipping_address=ADDRESS
        ),
        note("confirmed"),
    ]
    assert of_type(flow.when(failed(ORDER, TEA, 1, ETA1)), OrderBackordered)[0].eta == ETA1
    assert flow.when(dispatched(ORDER, f"{ORDER}-S1", {MUG: 2}, tracking="T-1"))[0] == OrderShipped(
        order_id=ORDER,
        shipment_id=f"{ORDER}-S1",
        carrier="ups",
        tracking_number="T-1",
        tracking_url="https://www.ups.com/track?tracknum=T-1",
        complete=False,
    )
    assert flow.when(reserved(ORDER, TEA, 1, from_backorder=True)) == [
        OrderBackorderCleared(order_id=ORDER, skus=(TEA,)),
        ShipmentRequested(
            order_id=ORDER, shipment_id=f"{ORDER}-S2", lines=(LineQty(sku=TEA, qty=1),), shipping_address=ADDRESS
        ),
    ], "confirmed once; the second shipment just goes"
    shipped = of_type(flow.when(dispatched(ORDER, f"{ORDER}-S2", {TEA: 1}, tracking="T-2")), OrderShipped)
    assert [s.complete for s in shipped] == [True]


def test_split_shipments_can_be_switched_on_for_every_order() -> None:
    flow = orders(split_shipments=True).given(placed(ORDER, {MUG: 2, TEA: 1}))
    requested = of_type(flow.when(reserved(ORDER, TEA, 1)), ShipmentRequested)
    assert [(r.shipment_id, r.lines) for r in requested] == [(f"{ORDER}-S1", (LineQty(sku=TEA, qty=1),))]


def test_complete_policy_waits_for_every_line() -> None:
    flow = orders().given(placed(ORDER, {MUG: 2, TEA: 1}), failed(ORDER, TEA, 1, ETA1))
    assert flow.when(reserved(ORDER, MUG, 2)) == []


def test_a_long_order_id_still_gets_a_valid_shipment_id() -> None:
    long_id = "x" * 64
    assert len(shipment_id_for(long_id, 12)) == 64
    assert shipment_id_for(long_id, 1) != shipment_id_for("x" * 63 + "y", 1)
    assert shipment_id_for("o-1", 2) == "o-1-S2"


# --- cancel ----------------------------------------------------------------------------------


def test_cancel_before_shipment_releases_every_line_and_refunds_the_prepaid_order() -> None:
    flow = orders().given(placed(ORDER, {MUG: 2, TEA: 1}), reserved(ORDER, MUG, 2), failed(ORDER, TEA, 1))
    assert flow.when(cancel_requested(ORDER, "found it cheaper")) == [
        OrderCancelled(order_id=ORDER, reason="found it cheaper"),
        StockReleaseRequested(sku=MUG, order_id=ORDER, reason="found it cheaper"),
        StockReleaseRequested(sku=TEA, order_id=ORDER, reason="found it cheaper"),
        RefundIssued(
            order_id=ORDER,
            amount=Decimal("30.00"),
            currency="EUR",
            reason="order cancelled: found it cheaper",
            payment_id=f"{ORDER}:placement",
            cause="cancellation",
        ),
        note("cancelled", reason="found it cheaper", refund_amount="30.00", currency="EUR"),
    ]
    assert flow.when(cancel_requested(ORDER)) == [], "already cancelled"
    assert flow.when(reserved(ORDER, TEA, 1, from_backorder=True)) == [], "its release is on the way"


def test_cancel_after_shipment_is_refused_with_advice_as_an_event() -> None:
    flow = shipped_two_line_order()
    request = cancel_requested(ORDER)
    assert flow.when(request) == [
        OrderRequestRefused(
            order_id=ORDER,
            refused_event_id=str(request.id),
            refused_type="oms.order.cancel_requested",
            code="too_late_to_cancel",
            reason="order o-100 was already handed to shipping; request a return instead (o-100-S1)",
        )
    ]
    assert status(flow) == "shipped"


def test_a_cancel_between_shipment_request_and_dispatch_is_refused_so_the_parcel_and_its_stock_agree() -> None:
    flow = orders().given(placed(ORDER, {MUG: 1}), reserved(ORDER, MUG, 1))
    before = flow.state
    assert refusals(flow.when(cancel_requested(ORDER))) == [
        ("too_late_to_cancel", "order o-100 was already handed to shipping; request a return instead (o-100-S1)")
    ]
    assert flow.state == before, "a refusal changes nothing: no release while the parcel is with the warehouse"
    assert of_type(flow.when(dispatched(ORDER, f"{ORDER}-S1", {MUG: 1})), StockCommitRequested) == [
        StockCommitRequested(sku=MUG, order_id=ORDER, qty=1)
    ]


# --- shipped and delivered -------------------------------------------------------------------


def test_dispatch_ships_commits_the_stock_and_tells_the_customer_once() -> None:
    flow = orders().given(placed(ORDER, {MUG: 2, TEA: 1}), reserved(ORDER, MUG, 2), reserved(ORDER, TEA, 1))
    parcel = dispatched(ORDER, f"{ORDER}-S1", {MUG: 2, TEA: 1})
    assert flow.when(parcel) == [
        OrderShipped(
            order_id=ORDER,
            shipment_id=f"{ORDER}-S1",
            carrier="ups",
            tracking_number="1Z999AA10123456784",
            tracking_url="https://www.ups.com/track?tracknum=1Z999AA10123456784",
            complete=True,
        ),
        StockCommitRequested(sku=MUG, order_id=ORDER, qty=2),
        StockCommitRequested(sku=TEA, order_id=ORDER, qty=1),
        note(
            "shipped",
            tracking_url="https://www.ups.com/track?tracknum=1Z999AA10123456784",
            tracking_number="1Z999AA10123456784",
            carrier="ups",
        ),
    ]
    assert flow.when(parcel) == []
    assert flow.when(dispatched(ORDER, f"{ORDER}-S1", {MUG: 2, TEA: 1})) == [], "same shipment, new envelope"


def test_an_unknown_shipment_is_rejected() -> None:
    flow = orders().given(placed(ORDER, {MUG: 1}))
    with pytest.raises(Rejected, match="never requested shipment o-100-S7"):
        flow.when(dispatched(ORDER, f"{ORDER}-S7", {MUG: 1}))


def test_delivery_of_a_shipped_order() -> None:
    flow = shipped_two_line_order()
    assert flow.when(delivered(ORDER, when=at(days=2))) == [
        OrderDelivered(
            order_id=ORDER,
            delivered_at=at(days=2),
            shipment_id=f"{ORDER}-S1",
            tracking_number="1Z999AA10123456784",
            complete=True,
        ),
        note("delivered", tracking_number="1Z999AA10123456784", delivered_at="2026-03-04"),
    ]
    assert status(flow) == "delivered"
    assert flow.when(delivered(ORDER, when=at(days=2))) == []
    with pytest.raises(Rejected, match="no shipment with tracking number NOPE"):
        flow.when(delivered(ORDER, tracking="NOPE"))


# --- returns ---------------------------------------------------------------------------------


def test_a_resellable_return_is_authorized_then_restocked_and_refunded_for_the_returned_lines() -> None:
    flow = shipped_two_line_order().given(delivered(ORDER))
    assert flow.when(return_requested(ORDER, {MUG: 1}, reason="too small")) == [
        ReturnAuthorized(order_id=ORDER, rma=f"{ORDER}-R1", lines=(LineQty(sku=MUG, qty=1),), reason="too small"),
        note("return_authorized", rma=f"{ORDER}-R1"),
    ]
    assert status(flow) == "return_requested"
    assert flow.when(return_received(ORDER, {MUG: 1})) == [
        ReturnRecorded(order_id=ORDER, rma=f"{ORDER}-R1", lines=(LineQty(sku=MUG, qty=1),), inspected=True),
        StockReturned(sku=MUG, order_id=ORDER, qty=1),
        RefundIssued(
            order_id=ORDER,
            amount=Decimal("49.50"),
            currency="EUR",
            reason="too small",
            payment_id=f"{ORDER}:placement",
            cause="return",
            lines=(LineQty(sku=MUG, qty=1),),
            rma=f"{ORDER}-R1",
        ),
        note("refunded", rma=f"{ORDER}-R1", amount="49.50", currency="EUR"),
    ]
    assert status(flow) == "partially_returned", "one mug of two mugs and a tea came back"
    assert refusals(flow.when(return_received(ORDER, {MUG: 2}))) == [
        ("not_returnable", "cannot return 2 x MUG-1 of order o-100: 2 shipped, 1 returned already")
    ]


def test_damaged_goods_are_refunded_but_not_restocked() -> None:
    flow = shipped_two_line_order()
    outputs = flow.when(return_received(ORDER, {MUG: 2, TEA: 1}, resellable=False))
    assert of_type(outputs, StockReturned) == []
    assert of_type(outputs, RefundIssued) == [
        RefundIssued(
            order_id=ORDER,
            amount=Decimal("148.50"),
            currency="EUR",
            reason="returned goods received",
            payment_id=f"{ORDER}:placement",
            cause="return",
            lines=(LineQty(sku=MUG, qty=2), LineQty(sku=TEA, qty=1)),
            rma=f"{ORDER}-R1",
        )
    ]
    assert status(flow) == "returned"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ({"SOCK-9": 1}, "order o-100 has no line for sku SOCK-9"),
        ({MUG: 3}, "cannot return 3 x MUG-1 of order o-100: 2 shipped, 0 returned already"),
    ],
)
def test_returns_must_be_lines_the_order_shipped(lines: dict[str, int], message: str) -> None:
    flow = shipped_two_line_order()
    before = flow.state
    assert [reason for _, reason in refusals(flow.when(return_requested(ORDER, lines)))] == [message]
    assert flow.state == before


def test_no_return_before_shipment() -> None:
    flow = orders().given(placed(ORDER, {MUG: 1}))
    assert refusals(flow.when(return_requested(ORDER, {MUG: 1}))) == [
        ("not_returnable", "order o-100 is placed; only shipped or delivered orders can be returned")
    ]


# --- unknown orders, other events, determinism, state ----------------------------------------


@pytest.mark.parametrize("happening", [reserved(ORDER, MUG, 1), cancel_requested(ORDER)])
def test_events_for_an_unknown_order_are_rejected(happening: Event[EventData]) -> None:
    with pytest.raises(Rejected, match="unknown order o-100"):
        orders().when(happening)


def test_events_the_rule_does_not_read_are_ignored() -> None:
    reply = event(StockReleased(sku=MUG, order_id=ORDER, qty=1, reason="x", was_reserved=True))
    assert decide_order(None, reply, T0, payment_timeout=TIMEOUT).state is None
    flow = orders().given(placed(ORDER, {MUG: 1}))
    assert flow.when(reply) == []


def test_the_same_state_event_and_now_give_the_same_outputs_and_ids() -> None:
    flow = orders().given(placed(ORDER, {MUG: 2, TEA: 1}), reserved(ORDER, MUG, 2))
    reply = reserved(ORDER, TEA, 1)
    first = decide_order(flow.state, reply, at(5), payment_timeout=TIMEOUT)
    again = decide_order(flow.state, reply, at(5), payment_timeout=TIMEOUT)
    assert first == again
    assert len({e.id for e in first.emitted}) == len(first.emitted) == 3


def test_state_round_trips_through_bytes() -> None:
    flow = shipped_two_line_order().given(failed(ORDER, MUG, 2, ETA1), return_received(ORDER, {TEA: 1}))
    assert flow.state is not None
    assert OrderState.from_bytes(flow.state.to_bytes()) == flow.state
    assert OrderState.model_validate(flow.state.model_dump(mode="json")) == flow.state
