"""The pipeline's own answers about an order, read before the placement that caused them (a replay after a crash
reads the replies topic and the orders topic in whatever order), are applied as if they had come after it.

Chaos finding (seed 7104): the order processor crashed after sending its reservation requests; restarted, it read
the inventory's answers before its own replayed placement, dead-lettered them as "unknown order" and counted them
as applied; the replayed requests were duplicates the inventory dropped, so the order was never decided.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from events import Event, EventData, OrderConfirmed, OrderRequestRefused, ShipmentRequested
from pipeline.rules.common import Decision, Rejected
from pipeline.rules.orders import OrderState, decide_order
from tests.unit.rules_support import T0, dispatched, placed, reserved

ORDER = "o-early"


def decide(state: OrderState | None, event: Event[EventData]) -> Decision[OrderState]:
    return decide_order(state, event, T0, payment_timeout=timedelta(minutes=30))


def from_inventory(answer: Event[EventData]) -> Event[EventData]:
    return answer.model_copy(update={"source": "oms.pipeline.inventory"})


def test_answers_read_before_their_placement_decide_the_order_as_in_order() -> None:
    placement = placed(ORDER, {"MUG": 1, "TEA": 2})
    answers = [from_inventory(reserved(ORDER, "MUG", 1)), from_inventory(reserved(ORDER, "TEA", 2))]

    in_order = decide(None, placement)
    emitted = list(in_order.emitted)
    state = in_order.state
    for answer in answers:
        decided = decide(state, answer)
        state, emitted = decided.state, [*emitted, *decided.emitted]

    early = None
    for answer in answers:
        held = decide(early, answer)
        assert held.emitted == ()
        early = held.state
    replayed = decide(early, placement)

    assert [(e.id, e.type) for e in replayed.emitted] == [(e.id, e.type) for e in emitted]
    assert any(isinstance(e.data, OrderConfirmed) for e in replayed.emitted)
    assert any(isinstance(e.data, ShipmentRequested) for e in replayed.emitted)
    assert replayed.state == state


def test_an_answer_that_does_not_fit_the_placed_order_is_refused_on_its_timeline_not_lost() -> None:
    stray = from_inventory(reserved(ORDER, "SOAP", 1))
    placement = placed(ORDER, {"MUG": 1})
    decided = decide(decide(None, stray).state, placement)
    refused = [e.data for e in decided.emitted if isinstance(e.data, OrderRequestRefused)]
    assert [(r.refused_event_id, r.code) for r in refused] == [(str(stray.id), "does_not_fit")]


def test_a_request_from_outside_for_an_unknown_order_is_still_dead_lettered() -> None:
    """Only the pipeline's own events wait for their placement: a stranger's are input that makes no sense."""
    with pytest.raises(Rejected, match="unknown order"):
        decide(None, reserved(ORDER, "MUG", 1))


def test_a_dispatch_read_before_the_request_it_answers_waits_for_it() -> None:
    """Chaos finding (seed 202): the parcel left, but its dispatch reached the rewound order processor before the
    replayed decision that requests the shipment; it was dead-lettered and the order stayed confirmed for ever."""
    placement = placed(ORDER, {"MUG": 1})
    answer = from_inventory(reserved(ORDER, "MUG", 1))
    placed_state = decide(None, placement).state
    confirmed = decide(placed_state, answer)
    shipment_id = next(e.data.shipment_id for e in confirmed.emitted if isinstance(e.data, ShipmentRequested))
    left = dispatched(ORDER, shipment_id, {"MUG": 1}, tracking="T-1").model_copy(
        update={"source": "oms.pipeline.shipping"}
    )

    held = decide(placed_state, left)
    assert held.emitted == ()
    replayed = decide(held.state, answer)

    in_order = decide(confirmed.state, left)
    assert [(e.id, e.type) for e in replayed.emitted] == [
        *((e.id, e.type) for e in confirmed.emitted),
        *((e.id, e.type) for e in in_order.emitted),
    ]
    assert replayed.state == in_order.state
