"""Issue 13 in the views: each case goes through the real order rules, and the orders view, its timeline and
the customers view are folded from the log a projector would read (requests, refusals and all)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from events import Customer, Event, EventData, OrderRequestRefused, RefundIssued, RefundReported, new_event
from pipeline.rules.order_status import cost, payment_status
from pipeline.rules.orders import payment_expired
from tests.unit.rules_support import (
    at,
    change_requested,
    delivered,
    dispatched,
    failed,
    paid,
    placed,
    reserved,
    return_received,
    return_requested,
)
from tests.unit.view_support import Story

MUG, TEA, JAM = "MUG-1", "TEA-2", "JAM-3"


def shipped_one_mug(order_id: str = "o-ret") -> Story:
    return Story().then(
        placed(order_id, {MUG: 1}),
        reserved(order_id, MUG, 1),
        dispatched(order_id, f"{order_id}-S1", {MUG: 1}, tracking="T-RET"),
        delivered(order_id, "T-RET"),
    )


def test_a_refused_return_leaves_the_status_and_shows_refused_with_its_reason_on_the_request() -> None:
    story = shipped_one_mug()
    asked = return_requested("o-ret", {MUG: 5})
    story.then(asked)
    [refusal] = [data for data in story.outputs if isinstance(data, OrderRequestRefused)]
    assert refusal.code == "not_returnable"
    story.then(return_received("o-ret", {MUG: 5}))  # the warehouse claims 5 came back: refused too

    row = story.row("o-ret")
    assert row["status"] == story.state("o-ret").status == "delivered"
    assert row["returns"] == [] and row["refunded_amount"] == "0.00" and row["payment_status"] == "paid"
    views = story.project()
    assert views.order("o-ret")["status"] == "delivered"
    [request] = [entry for entry in views.timeline("o-ret") if entry["event_id"] == str(asked.id)]
    assert request["refusal_code"] == "not_returnable"
    assert request["refusal_reason"] == refusal.reason and "1 shipped" in refusal.reason
    refused = [entry["type"] for entry in views.timeline("o-ret") if entry["refusal_code"]]
    assert refused == ["oms.return.requested", "oms.return.received"]


def test_a_payment_after_the_cancellation_shows_the_order_refunded_not_paid() -> None:
    story = Story().then(placed("o-late", {MUG: 1}, paid=False), reserved("o-late", MUG, 1))
    story.then(payment_expired(story.state("o-late"), at(days=1)))
    assert story.row("o-late")["status"] == "cancelled"
    story.then(paid("o-late", "10.00", payment_id="p-late"))
    [refund] = [data for data in story.outputs if isinstance(data, RefundIssued)]
    assert (refund.cause, refund.payment_id) == ("late_payment", "p-late")

    row = story.row("o-late")
    assert (row["status"], row["payment_status"]) == ("cancelled", "refunded")
    assert (row["captured_amount"], row["refunded_amount"], row["balance_due"]) == ("10.00", "10.00", "0.00")
    [payment] = row["payments"]
    assert (payment["payment_id"], payment["captured"], payment["refunded"]) == ("p-late", "10.00", "10.00")


def test_an_underpayment_waits_with_its_balance_and_a_refused_payment_changes_nothing() -> None:
    story = Story().then(placed("o-under", {MUG: 2}, paid=False), reserved("o-under", MUG, 2))
    story.then(paid("o-under", "12.50", payment_id="p-1"), paid("o-under", "5.00", payment_id="p-usd", currency="USD"))
    row = story.row("o-under")
    assert (row["status"], row["payment_status"]) == ("awaiting_payment", "partially_paid")
    assert (row["total_amount"], row["captured_amount"], row["balance_due"]) == ("20.00", "12.50", "7.50")
    assert [p["payment_id"] for p in row["payments"]] == ["p-1"]
    story.then(paid("o-under", "20.00", payment_id="p-1"))
    row = story.row("o-under")
    assert (row["status"], row["payment_status"], row["balance_due"]) == ("shipment_requested", "paid", "0.00")


def test_a_split_order_is_delivered_parcel_by_parcel_each_with_its_own_tracking_number() -> None:
    story = Story().then(
        placed("o-split", {MUG: 1, TEA: 1}, split=True),
        reserved("o-split", MUG, 1),
        failed("o-split", TEA, 1, at(days=2)),
        dispatched("o-split", "o-split-S1", {MUG: 1}, tracking="T-1"),
    )
    assert story.row("o-split")["status"] == "partially_shipped"
    story.then(reserved("o-split", TEA, 1, from_backorder=True))
    story.then(dispatched("o-split", "o-split-S2", {TEA: 1}, tracking="T-2"))
    assert story.row("o-split")["status"] == "shipped"
    story.then(delivered("o-split", "T-1"))

    row = story.row("o-split")
    assert row["status"] == story.state("o-split").status == "partially_delivered"
    assert row["delivered_at"] is None
    parcels = [(p["shipment_id"], p["tracking_number"], [ln["sku"] for ln in p["lines"]]) for p in row["parcels"]]
    assert parcels == [("o-split-S1", "T-1", [MUG]), ("o-split-S2", "T-2", [TEA])]
    assert [p["delivered_at"] is not None for p in row["parcels"]] == [True, False]

    story.then(delivered("o-split", "T-2", when=at(days=3)))
    row = story.row("o-split")
    assert row["status"] == "delivered" and row["delivered_at"] == at(days=3)
    assert all(p["delivered_at"] for p in row["parcels"])


@given(st.data())
def test_the_row_is_the_same_however_oms_orders_and_oms_shipments_interleave(data: st.DataObject) -> None:
    """The projector reads both topics; their interleaving differs from run to run (and between live and replay)."""
    story = Story().then(
        placed("o-mix", {MUG: 1, TEA: 1}, split=True),
        reserved("o-mix", MUG, 1),
        failed("o-mix", TEA, 1, at(days=2)),
        dispatched("o-mix", "o-mix-S1", {MUG: 1}, tracking="T-M"),
        delivered("o-mix", "T-M"),
        reserved("o-mix", TEA, 1, from_backorder=True),
        dispatched("o-mix", "o-mix-S2", {TEA: 1}, tracking="T-T"),
    )
    in_log_order = story.row("o-mix")
    orders = [e for e in story.log if e.data.topic == "oms.orders"]
    shipments = [e for e in story.log if e.data.topic == "oms.shipments"]
    picks = data.draw(st.permutations([True] * len(orders) + [False] * len(shipments)))
    story.log = [(orders if pick else shipments).pop(0) for pick in picks]
    assert {k: v for k, v in story.row("o-mix").items() if k != "updated_at"} == {
        k: v for k, v in in_log_order.items() if k != "updated_at"
    }
    assert in_log_order["status"] == "partially_delivered"
    assert [line["backordered"] for line in in_log_order["lines"]] == [False, False]


def test_walk_ins_are_customers_of_their_own_and_spend_is_net_money() -> None:
    anonymous = {"channel": "pos", "customer": Customer(), "shipping_address": None}
    story = Story().then(
        placed("pos-1", {MUG: 1}, **anonymous),
        placed("pos-2", {TEA: 2}, **anonymous),
        placed("web-1", {MUG: 2}),
        placed("web-2", {TEA: 1}),
    )
    story.then(reserved("pos-1", MUG, 1), reserved("pos-2", TEA, 2), reserved("web-1", MUG, 2))
    story.then(reserved("web-2", TEA, 1), dispatched("web-2", "web-2-S1", {TEA: 1}, tracking="T-W"))
    story.then(return_requested("web-2", {TEA: 1}), return_received("web-2", {TEA: 1}, resellable=True))
    assert story.row("pos-1")["status"] == "completed"

    by_key = {row["customer_key"]: row for row in story.project().customers()}
    assert set(by_key) == {"walk-in:pos-1", "walk-in:pos-2", "ada@example.com"}
    assert by_key["walk-in:pos-1"]["anonymous"] and by_key["walk-in:pos-1"]["email"] is None
    assert (by_key["walk-in:pos-2"]["orders_count"], by_key["walk-in:pos-2"]["total_spend"]) == (1, "20.00")
    ada = by_key["ada@example.com"]
    assert not ada["anonymous"] and ada["orders_count"] == 2
    assert ada["total_spend"] == "20.00"  # web-1 paid 20; web-2 paid 10 and got 10 back for its return


def test_a_change_moves_the_lines_and_the_total_and_refunds_what_the_order_no_longer_costs() -> None:
    story = Story().then(placed("o-chg", {MUG: 2, TEA: 1}, prices={MUG: "10.00", TEA: "7.35"}, discount=Decimal("3")))
    story.then(change_requested("o-chg", {MUG: 1, JAM: 2}, prices={JAM: "4.20"}))
    state, row = story.state("o-chg"), story.row("o-chg")
    assert [(ln["sku"], ln["qty"], ln["unit_price"]) for ln in row["lines"]] == [
        (MUG, 1, "10.00"),
        (TEA, 1, "7.35"),
        (JAM, 2, "4.20"),
    ]
    assert Decimal(row["total_amount"]) == state.charge()
    refunds = [data for data in story.outputs if isinstance(data, RefundIssued)]
    assert [r.cause for r in refunds] == ["change"]
    assert Decimal(row["refunded_amount"]) == refunds[0].amount and row["payment_status"] == "partially_refunded"
    assert row["balance_due"] == "0.00" and row["status"] == "placed"


def test_a_change_the_processor_refuses_changes_nothing_in_the_view() -> None:
    story = shipped_one_mug("o-nochg")
    before = story.row("o-nochg")
    story.then(change_requested("o-nochg", {MUG: 3}))
    assert [type(data) for data in story.outputs] == [OrderRequestRefused]
    after = story.row("o-nochg")
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def test_a_line_the_shop_refunded_before_its_change_came_is_not_refunded_twice() -> None:
    """Shopify: an order edited in the shop's admin and refunded there sends refunds/create (oms.refund.reported)
    and orders/edited (oms.order.change_requested), in either order. The processor announces nothing for the part
    of the change's refund the shop already gave back; the view works it out the same way."""
    story = Story().then(
        placed("o-shop", {MUG: 2, TEA: 1}, prices={MUG: "10.00", TEA: "7.35"}, payment_id="shop:1"),
        reported_refund("o-shop", "shop:1", "7.35"),
    )
    row = story.row("o-shop")
    assert (row["total_amount"], row["refunded_amount"], row["balance_due"]) == ("20.00", "7.35", "0.00")
    story.then(change_requested("o-shop", {TEA: 0}))
    assert not [data for data in story.outputs if isinstance(data, RefundIssued)]  # given back at the shop already
    state, row = story.state("o-shop"), story.row("o-shop")
    assert (row["total_amount"], row["refunded_amount"], row["balance_due"]) == ("20.00", "7.35", "0.00")
    assert Decimal(row["total_amount"]) == cost(state) and row["payments"][0]["conceded"] == "0.00"
    assert (row["status"], row["payment_status"]) == (state.status, payment_status(state))


def reported_refund(order_id: str, payment_id: str, value: str) -> Event[EventData]:
    data = RefundReported(
        order_id=order_id, payment_id=payment_id, refund_id=f"r-{value}", amount=Decimal(value), currency="EUR"
    )
    return new_event(data, source="tests", time=at(1))


def test_a_waiting_line_that_gets_its_stock_while_the_order_waits_for_money_no_longer_shows_backordered() -> None:
    """The processor said awaiting payment while the view still said backordered: nothing told the view."""
    story = Story().then(placed("o-wait", {MUG: 1}, paid=False), failed("o-wait", MUG, 1))
    assert story.row("o-wait")["status"] == "backordered"
    story.then(reserved("o-wait", MUG, 1, from_backorder=True))
    row = story.row("o-wait")
    assert row["status"] == "awaiting_payment"
    assert [line["backordered"] for line in row["lines"]] == [False]
