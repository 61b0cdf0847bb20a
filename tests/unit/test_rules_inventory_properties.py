"""Properties of the inventory rules under random sequences of events on one sku.

- reserved never exceeds on hand, on hand never goes below zero;
- folding the accepted inputs and the emitted events reproduces on hand, each reservation and the queue;
- nothing is reserved for an order while an older one waits;
- a re-applied (duplicate) reservation request changes nothing;
- a newer revision of an order's request (its line changed) replaces the old one, and all of the above hold.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from events import (
    Event,
    EventData,
    StockAdjusted,
    StockCommitted,
    StockReceived,
    StockReleased,
    StockReservationFailed,
    StockReservationRequested,
    StockReserved,
)
from pipeline.rules.common import Rejected
from pipeline.rules.inventory import SkuStock, decide_stock
from tests.profiles import examples
from tests.unit.rules_support import adjusted, at, commit, received, release, requested

SKU = "HOT-1"
ORDERS = [f"o-{n}" for n in range(8)]

receives = st.builds(lambda qty: ("receive", qty), st.integers(1, 5))
adjustments = st.builds(lambda delta: ("adjust", delta), st.integers(-5, 5))
requests = st.builds(
    lambda order, qty, minute: ("request", order, qty, minute),
    st.sampled_from(ORDERS),
    st.integers(1, 4),
    st.integers(0, 5),
)
releases = st.builds(lambda order: ("release", order), st.sampled_from(ORDERS))
commits = st.builds(lambda order, qty: ("commit", order, qty), st.sampled_from(ORDERS), st.integers(1, 4))
duplicates = st.builds(lambda index: ("duplicate", index), st.integers(0, 100))
resizes = st.builds(lambda order, qty: ("resize", order, qty), st.sampled_from(ORDERS), st.integers(1, 4))
operations = st.lists(st.one_of(receives, adjustments, requests, releases, commits, duplicates, resizes), max_size=40)


class Log:
    """The inventory topic as a projection would fold it: accepted inputs plus emitted outputs."""

    def __init__(self) -> None:
        self.on_hand = 0
        self.reservations: Counter[str] = Counter()
        self.queued: set[str] = set()

    def fold(self, data: EventData) -> None:
        match data:
            case StockReceived():
                self.on_hand += data.qty
            case StockAdjusted():
                self.on_hand += data.delta
            case StockReserved():
                self.reservations[data.order_id] += data.qty
                self.queued.discard(data.order_id)
            case StockReservationFailed():
                self.queued.add(data.order_id)
            case StockReleased():
                self.queued.discard(data.order_id)
                if data.was_reserved:
                    self.reservations[data.order_id] -= data.qty
            case StockCommitted():
                self.on_hand -= data.qty
                self.reservations[data.order_id] -= data.qty

    def matches(self, state: SkuStock) -> bool:
        held = {order: qty for order, qty in self.reservations.items() if qty}
        return (self.on_hand, held, self.queued) == (
            state.on_hand,
            state.reservations,
            {line.order_id for line in state.backorders},
        )


def to_event(operation: tuple[object, ...], state: SkuStock | None) -> Event[EventData]:
    match operation:
        case ("receive", int(qty)):
            return received(SKU, qty)
        case ("adjust", int(delta)):
            return adjusted(SKU, delta)
        case ("request", str(order), int(qty), int(minute)):
            return requested(SKU, order, qty, at(minute))
        case ("resize", str(order), int(qty)):
            line = state.queued(order) if state else None
            revision = state.revision(order) + 1 if state else 1
            return requested(SKU, order, qty, line.placed_at if line else at(0), revision=revision)
        case ("release", str(order)):
            return release(SKU, order)
        case ("commit", str(order), int(qty)):
            held = state.reservations.get(order) if state else None
            return commit(SKU, order, held or qty)
    raise AssertionError(f"unexpected operation {operation}")


def position(state: SkuStock | None, order_id: str, fresh: Event[EventData]) -> tuple[datetime, int]:
    """Where an order stood in the queue before this step (a fresh request would join at the end)."""
    line = state.queued(order_id) if state else None
    if line is not None:
        return line.position
    assert isinstance(fresh.data, StockReservationRequested)
    return (fresh.data.placed_at, state.arrivals if state else 0)


def _shrunk_in_place(state: SkuStock | None, happening: Event[EventData], served: StockReserved) -> bool:
    request = happening.data
    return (
        isinstance(request, StockReservationRequested)
        and request.revision > 0
        and request.order_id == served.order_id
        and state is not None
        and served.qty <= state.reservations.get(served.order_id, 0)
    )


@settings(max_examples=examples(100, 2000), deadline=None)
@given(operations)
def test_random_histories_keep_the_inventory_invariants(history: list[tuple[object, ...]]) -> None:
    state: SkuStock | None = None
    log = Log()
    applied_requests: list[Event[EventData]] = []
    for operation in history:
        if operation[0] == "duplicate":
            if applied_requests:
                again = applied_requests[int(str(operation[1])) % len(applied_requests)]
                repeat = decide_stock(state, again, at(99))
                assert repeat.emitted == () and repeat.state == state, "a duplicate request changed something"
            continue
        happening = to_event(operation, state)
        try:
            decision = decide_stock(state, happening, at(99))
        except Rejected:
            continue
        log.fold(happening.data)
        for emitted in decision.emitted:
            log.fold(emitted.data)
        new = decision.state
        assert new is not None
        assert 0 <= new.reserved <= new.on_hand, "oversold"
        assert log.matches(new), "the log does not fold to the state"
        for served in (e.data for e in decision.emitted if isinstance(e.data, StockReserved)):
            if _shrunk_in_place(state, happening, served):
                continue  # it keeps fewer of the units it held: nobody waits for those
            was = position(state, served.order_id, happening)
            older = [line.order_id for line in new.backorders if line.position < was]
            assert not older, f"{served.order_id} was reserved while older {older} wait"
        if new.backorders:
            assert new.backorders[0].qty > new.available, "stock is free while the oldest line waits"
        if isinstance(happening.data, StockReservationRequested):
            applied_requests.append(happening)
        state = new
