"""Inventory rules: given stock events, when one more arrives, then these events come out."""

from __future__ import annotations

from datetime import datetime

import pytest

from events import (
    Event,
    EventData,
    StockCommitted,
    StockLow,
    StockReleased,
    StockReservationFailed,
    StockReserved,
)
from pipeline.rules.common import Rejected
from pipeline.rules.inventory import SkuStock, decide_stock
from pipeline.rules.sku_stock import suggested_reorder_qty
from tests.unit.rules_support import (
    Flow,
    adjusted,
    at,
    commit,
    incoming,
    of_type,
    policy,
    received,
    release,
    requested,
    reserved,
    returned,
)

SKU = "MUG-1"
D1, D2 = at(days=3), at(days=10)


def stock() -> Flow[SkuStock]:
    return Flow(decide_stock)


def waiting(order_id: str, qty: int, eta: datetime | None = None) -> StockReservationFailed:
    return StockReservationFailed(sku=SKU, order_id=order_id, qty=qty, reason="insufficient stock", eta=eta)


# --- reserve and backorder -------------------------------------------------------------------


def test_reserves_what_is_available() -> None:
    flow = stock().given(received(SKU, 5))
    assert flow.when(requested(SKU, "o-1", 2)) == [StockReserved(sku=SKU, order_id="o-1", qty=2)]
    assert flow.state is not None
    assert (flow.state.on_hand, flow.state.reserved, flow.state.available) == (5, 2, 3)


def test_backorders_with_the_eta_of_the_purchase_order_that_covers_the_line() -> None:
    flow = stock().given(
        received(SKU, 1),
        incoming(SKU, 5, "PO-LATE", D2),
        incoming(SKU, 3, "PO-SOON", D1),  # scheduled second, arrives first
        requested(SKU, "o-1", 1),
    )
    assert flow.when(requested(SKU, "o-2", 2, at(1))) == [waiting("o-2", 2, D1)]
    assert flow.when(requested(SKU, "o-3", 2, at(2))) == [waiting("o-3", 2, D2)], "4 queued > 3 coming soon"
    assert flow.when(requested(SKU, "o-4", 5, at(3))) == [waiting("o-4", 5, None)], "9 queued > 8 incoming"
    assert flow.state is not None
    assert (flow.state.backordered_total, flow.state.incoming_total) == (9, 8)


def test_a_line_waits_while_older_lines_wait_even_if_it_would_fit() -> None:
    flow = stock().given(received(SKU, 2), requested(SKU, "o-big", 3, at(0)))
    assert flow.when(requested(SKU, "o-small", 1, at(1))) == [waiting("o-small", 1)]


def test_an_older_order_arriving_late_goes_ahead_of_newer_ones() -> None:
    flow = stock().given(requested(SKU, "o-new", 1, at(10)), requested(SKU, "o-old", 1, at(0)))
    assert flow.when(received(SKU, 1)) == [StockReserved(sku=SKU, order_id="o-old", qty=1, from_backorder=True)]


def test_ties_in_placement_time_are_served_in_arrival_order() -> None:
    flow = stock().given(requested(SKU, "o-first", 1, at(5)), requested(SKU, "o-second", 1, at(5)))
    assert flow.when(received(SKU, 1)) == [StockReserved(sku=SKU, order_id="o-first", qty=1, from_backorder=True)]


def test_scheduling_a_purchase_order_tells_waiting_orders_their_new_eta() -> None:
    flow = stock().given(requested(SKU, "o-1", 2), requested(SKU, "o-2", 4, at(1)))
    assert flow.when(incoming(SKU, 3, "PO-1", D1)) == [waiting("o-1", 2, D1)], "o-2 is not covered yet"
    assert flow.when(incoming(SKU, 3, "PO-1", D2)) == [waiting("o-1", 2, D2)], "same PO, new date: replaced"


# --- restock, release, commit ----------------------------------------------------------------


def test_restock_serves_the_backorder_queue_oldest_first_and_stops_at_the_first_that_does_not_fit() -> None:
    flow = stock().given(
        requested(SKU, "o-1", 2, at(0)),
        requested(SKU, "o-2", 1, at(1)),
        requested(SKU, "o-3", 3, at(2)),
        requested(SKU, "o-4", 1, at(3)),
    )
    assert flow.when(received(SKU, 4)) == [
        StockReserved(sku=SKU, order_id="o-1", qty=2, from_backorder=True),
        StockReserved(sku=SKU, order_id="o-2", qty=1, from_backorder=True),
    ], "o-3 needs 3 of the 1 left; o-4 must not jump ahead"
    assert flow.state is not None
    assert [line.order_id for line in flow.state.backorders] == ["o-3", "o-4"]


def test_receipt_against_a_purchase_order_reduces_what_is_incoming() -> None:
    flow = stock().given(incoming(SKU, 5, "PO-1", D1), incoming(SKU, 2, "PO-2", D2))
    flow.when(received(SKU, 3, purchase_order="PO-1"))
    assert flow.state is not None
    assert [(po.purchase_order, po.qty) for po in flow.state.incoming] == [("PO-1", 2), ("PO-2", 2)]
    flow.when(received(SKU, 4, purchase_order="PO-1"))
    assert [po.purchase_order for po in flow.state.incoming] == ["PO-2"]


def test_returned_and_found_goods_serve_the_queue_too() -> None:
    flow = stock().given(requested(SKU, "o-1", 1), requested(SKU, "o-2", 1, at(1)))
    assert flow.when(returned(SKU, "o-0", 1)) == [StockReserved(sku=SKU, order_id="o-1", qty=1, from_backorder=True)]
    assert flow.when(adjusted(SKU, +1, "found")) == [StockReserved(sku=SKU, order_id="o-2", qty=1, from_backorder=True)]


def test_release_gives_the_stock_to_the_next_backorder() -> None:
    flow = stock().given(received(SKU, 1), requested(SKU, "o-1", 1), requested(SKU, "o-2", 1, at(1)))
    assert flow.when(release(SKU, "o-1")) == [
        StockReleased(sku=SKU, order_id="o-1", qty=1, reason="customer asked", was_reserved=True),
        StockReserved(sku=SKU, order_id="o-2", qty=1, from_backorder=True),
    ]


def test_release_of_a_queued_line_leaves_the_queue_and_lets_the_next_one_through() -> None:
    flow = stock().given(received(SKU, 1), requested(SKU, "o-big", 2), requested(SKU, "o-small", 1, at(1)))
    assert flow.when(release(SKU, "o-big", "payment timeout")) == [
        StockReleased(sku=SKU, order_id="o-big", qty=2, reason="payment timeout", was_reserved=False),
        StockReserved(sku=SKU, order_id="o-small", qty=1, from_backorder=True),
    ]


def test_release_of_an_unknown_order_does_nothing() -> None:
    flow = stock().given(received(SKU, 1))
    before = flow.state
    assert flow.when(release(SKU, "o-unknown")) == []
    assert flow.state == before


def test_commit_takes_the_reserved_units_off_the_shelf_once() -> None:
    flow = stock().given(received(SKU, 5), requested(SKU, "o-1", 2))
    assert flow.when(commit(SKU, "o-1", 2)) == [StockCommitted(sku=SKU, order_id="o-1", qty=2)]
    assert flow.state is not None
    assert (flow.state.on_hand, flow.state.reserved) == (3, 0)
    assert flow.when(commit(SKU, "o-1", 2)) == [], "a duplicate commit is a no-op"
    assert flow.when(requested(SKU, "o-1", 2)) == [], "a late duplicate request after commit is a no-op"


@pytest.mark.parametrize(
    ("history", "commit_qty", "message"),
    [
        ([received(SKU, 1)], 1, "holds no reservation of MUG-1"),
        ([requested(SKU, "o-1", 1)], 1, "still waits for MUG-1 in the backorder queue"),
        ([received(SKU, 5), requested(SKU, "o-1", 2)], 3, "commit of 3 x MUG-1 for order o-1 does not match"),
    ],
)
def test_commit_without_a_matching_reservation_is_rejected(
    history: list[Event[EventData]], commit_qty: int, message: str
) -> None:
    flow = stock().given(*history)
    with pytest.raises(Rejected, match=message):
        flow.when(commit(SKU, "o-1", commit_qty))


# --- adjustments -----------------------------------------------------------------------------


def test_a_negative_adjustment_below_the_reserved_units_is_rejected() -> None:
    flow = stock().given(received(SKU, 8), requested(SKU, "o-1", 7))
    with pytest.raises(Rejected) as rejected:
        flow.when(adjusted(SKU, -5, "broken"))
    assert str(rejected.value) == (
        "adjustment of -5 would leave 3 on hand under 7 reserved; cancel or reassign orders first"
    )
    assert flow.when(adjusted(SKU, -1, "broken")) == []
    assert flow.state is not None
    assert (flow.state.on_hand, flow.state.reserved) == (7, 7)


def test_on_hand_never_goes_below_zero() -> None:
    flow = stock().given(received(SKU, 2))
    with pytest.raises(Rejected, match="below zero: only 2 on hand"):
        flow.when(adjusted(SKU, -3))


# --- low stock -------------------------------------------------------------------------------


def test_low_stock_fires_once_per_crossing_with_a_suggestion() -> None:
    flow = stock().given(policy(SKU, reorder_point=5, reorder_qty=10), received(SKU, 8), requested(SKU, "o-1", 2))
    assert flow.when(requested(SKU, "o-2", 2)) == [
        StockReserved(sku=SKU, order_id="o-2", qty=2),
        StockLow(sku=SKU, available=4, reorder_point=5, incoming=0, backordered=0, suggested_reorder_qty=11),
    ]
    assert flow.when(requested(SKU, "o-3", 1)) == [StockReserved(sku=SKU, order_id="o-3", qty=1)], "still low: quiet"
    assert flow.when(received(SKU, 10)) == [], "back above the reorder point re-arms the warning"
    assert flow.state is not None and not flow.state.low_flagged
    low = of_low(flow.when(requested(SKU, "o-4", 10)))
    assert low == StockLow(sku=SKU, available=3, reorder_point=5, incoming=0, backordered=0, suggested_reorder_qty=12)


def of_low(outputs: list[EventData]) -> StockLow:
    (low,) = [data for data in outputs if isinstance(data, StockLow)]
    return low


def test_the_suggestion_covers_waiting_customers_less_what_is_incoming() -> None:
    flow = stock().given(
        policy(SKU, reorder_point=4, reorder_qty=6), incoming(SKU, 3, "PO-1", D1), requested(SKU, "o-1", 9)
    )
    assert flow.state is not None
    # max(6, 4 + 6 + 9 backordered - 0 available - 3 incoming) = 16
    assert suggested_reorder_qty(flow.state) == 16
    assert flow.state.low_flagged


def test_no_low_stock_warning_without_a_reorder_point() -> None:
    flow = stock().given(received(SKU, 1))
    assert flow.when(requested(SKU, "o-1", 1)) == [StockReserved(sku=SKU, order_id="o-1", qty=1)]


# --- idempotence, determinism, state ---------------------------------------------------------


def test_a_duplicate_request_changes_nothing() -> None:
    request = requested(SKU, "o-1", 2)
    flow = stock().given(received(SKU, 3), request)
    before = flow.state
    assert flow.when(request) == []
    assert flow.when(requested(SKU, "o-1", 2)) == [], "same order and sku in another envelope: still a duplicate"
    assert flow.state == before
    waiting_request = requested(SKU, "o-2", 5)
    flow.given(waiting_request)
    assert flow.when(waiting_request) == []


def test_a_request_after_release_is_not_reserved_again() -> None:
    request = requested(SKU, "o-1", 1)
    flow = stock().given(received(SKU, 1), request, release(SKU, "o-1"))
    assert flow.when(request) == []
    assert flow.state is not None and flow.state.reserved == 0


def test_the_same_state_event_and_now_give_the_same_outputs_and_ids() -> None:
    flow = stock().given(received(SKU, 1), requested(SKU, "o-1", 1), requested(SKU, "o-2", 1, at(1)))
    restock = received(SKU, 5)
    first = decide_stock(flow.state, restock, at(60))
    again = decide_stock(flow.state, restock, at(60))
    assert first == again
    assert [e.id for e in first.emitted] == [e.id for e in again.emitted]
    assert all(e.causationid == str(restock.id) and e.time == at(60) for e in first.emitted)


def test_events_the_rule_does_not_read_leave_the_state_alone() -> None:
    assert decide_stock(None, reserved("o-1", SKU, 1), at()).state is None
    flow = stock().given(received(SKU, 2))
    before = flow.state
    assert flow.when(reserved("o-1", SKU, 1)) == []
    assert flow.state is before


def test_state_round_trips_through_bytes() -> None:
    flow = stock().given(
        policy(SKU, 3, 5),
        received(SKU, 2),
        incoming(SKU, 4, "PO-1", D1),
        requested(SKU, "o-1", 1),
        requested(SKU, "o-2", 4),
    )
    assert flow.state is not None
    raw = flow.state.to_bytes()
    assert SkuStock.from_bytes(raw) == flow.state
    assert SkuStock.model_validate(flow.state.model_dump(mode="json")) == flow.state


# --- a changed order line: a newer revision replaces the request -----------------------------


def changed(order_id: str, qty: int, revision: int = 1, placed_at: datetime = at()) -> Event[EventData]:
    return requested(SKU, order_id, qty, placed_at, revision=revision)


def test_a_smaller_quantity_is_resized_in_place_and_frees_units_for_the_queue() -> None:
    flow = stock().given(received(SKU, 3), requested(SKU, "o-1", 3), requested(SKU, "o-2", 2, at(1)))
    assert flow.when(changed("o-1", 1)) == [
        StockReleased(sku=SKU, order_id="o-1", qty=3, reason="order line changed", was_reserved=True),
        StockReserved(sku=SKU, order_id="o-1", qty=1, revision=1),
        StockReserved(sku=SKU, order_id="o-2", qty=2, from_backorder=True),
    ]
    assert flow.state is not None and flow.state.reservations == {"o-1": 1, "o-2": 2}


def test_a_larger_quantity_that_fits_is_resized_in_place() -> None:
    flow = stock().given(received(SKU, 5), requested(SKU, "o-1", 2))
    assert flow.when(changed("o-1", 4)) == [
        StockReleased(sku=SKU, order_id="o-1", qty=2, reason="order line changed", was_reserved=True),
        StockReserved(sku=SKU, order_id="o-1", qty=4, revision=1),
    ]


def test_a_larger_quantity_that_does_not_fit_waits_at_the_lines_old_place_in_the_queue() -> None:
    flow = stock().given(received(SKU, 3), requested(SKU, "o-1", 2, at(0)), requested(SKU, "o-2", 2, at(1)))
    assert flow.when(changed("o-1", 4)) == [
        StockReleased(sku=SKU, order_id="o-1", qty=2, reason="order line changed", was_reserved=True),
        StockReservationFailed(sku=SKU, order_id="o-1", qty=4, reason="insufficient stock", revision=1),
    ]
    assert flow.state is not None
    assert [line.order_id for line in flow.state.backorders] == ["o-1", "o-2"], "o-2 does not jump the queue"
    assert flow.when(received(SKU, 1)) == [
        StockReserved(sku=SKU, order_id="o-1", qty=4, from_backorder=True, revision=1)
    ]


def test_growing_in_place_never_takes_units_an_older_waiting_line_needs() -> None:
    flow = stock().given(received(SKU, 3), requested(SKU, "o-0", 4, at(0)), requested(SKU, "o-1", 1, at(5)))
    assert flow.state is not None and flow.state.reservations == {}, "o-1 waits behind o-0"
    flow = stock().given(received(SKU, 3), requested(SKU, "o-1", 1, at(5)), requested(SKU, "o-0", 4, at(0)))
    outputs = flow.when(changed("o-1", 2, placed_at=at(5)))
    assert of_type(outputs, StockReservationFailed) == [
        StockReservationFailed(sku=SKU, order_id="o-1", qty=2, reason="insufficient stock", revision=1)
    ]


def test_a_repeated_or_older_revision_changes_nothing() -> None:
    flow = stock().given(received(SKU, 5), requested(SKU, "o-1", 2), changed("o-1", 3))
    before = flow.state
    assert flow.when(changed("o-1", 3)) == []
    assert flow.when(requested(SKU, "o-1", 2)) == [], "the placement's request arriving late"
    assert flow.state == before


def test_a_cancelled_line_that_comes_back_is_reserved_again() -> None:
    flow = stock().given(received(SKU, 5), requested(SKU, "o-1", 2), release(SKU, "o-1"))
    assert flow.when(changed("o-1", 1, revision=2)) == [StockReserved(sku=SKU, order_id="o-1", qty=1, revision=2)]
