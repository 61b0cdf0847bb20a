"""Once-per-order outputs keep their ids whatever order the inputs that complete them arrive in."""

from __future__ import annotations

from datetime import timedelta
from itertools import permutations

from events import Event, EventData, OrderPaid, StockReserved, caused_by, utc_now
from pipeline.rules.orders import OrderState, decide_order
from tests import builders as b

TIMEOUT = timedelta(minutes=30)


def run(events: list[Event[EventData]]) -> dict[str, str]:
    state: OrderState | None = None
    ids: dict[str, str] = {}
    for event in events:
        decided = decide_order(state, event, utc_now(), payment_timeout=TIMEOUT)
        state = decided.state
        ids.update({f"{e.type}:{getattr(e.data, 'kind', '')}": str(e.id) for e in decided.emitted})
    return ids


def test_confirmation_ids_do_not_depend_on_which_input_came_last() -> None:
    placed = b.order_placed("o-ids", {"MUG": 1, "TEA": 2}, paid=False)
    replies = [
        caused_by(placed, f"r:{sku}", StockReserved(sku=sku, order_id="o-ids", qty=qty), source="inv")
        for sku, qty in (("MUG", 1), ("TEA", 2))
    ]
    payment = caused_by(placed, "pay", OrderPaid(order_id="o-ids", amount=placed.data.total()), source="psp")
    runs = [run([placed, *order]) for order in permutations([*replies, payment])]
    confirmed = {r["oms.order.confirmed:"] for r in runs}
    shipment = {r["oms.shipment.requested:"] for r in runs}
    notice = {r["oms.notification.requested:confirmed"] for r in runs}
    assert len(runs) == 6
    assert len(confirmed) == len(shipment) == len(notice) == 1
