"""Order states stored by the rules before the money ledger load, and the order carries on from there."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from events import PaymentRecorded, RefundIssued, ShipmentRequested
from pipeline.rules.orders import OrderState, decide_order, is_payment_overdue
from tests.unit.rules_support import Flow, at, of_type, paid, reserved, return_received

STORED: dict[str, Any] = json.loads((Path(__file__).parent / "samples" / "legacy_order_states.json").read_text())
ORDER = "o-old"


def resumed(name: str) -> Flow[OrderState]:
    flow = Flow(partial(decide_order, payment_timeout=timedelta(minutes=30)))
    flow.state = OrderState.model_validate(STORED[name])
    return flow


def test_a_stored_returned_order_keeps_its_lines_payment_and_refund() -> None:
    state = resumed("returned").state
    assert state is not None
    assert [(line.sku, line.shipment_id, line.stock, line.returned) for line in state.lines] == [
        ("MUG-1", "o-old-S1", "committed", 1),
        ("TEA-2", "o-old-S1", "committed", 0),
    ]
    (payment,) = state.payments
    assert (payment.payment_id, payment.captured, payment.refunded) == ("o-old:placement", Decimal("148.50"), 49.5)
    assert state.order is not None and state.order.fulfilment == "ship"
    assert OrderState.from_bytes(state.to_bytes()) == state


def test_a_stored_returned_order_refunds_a_further_return_from_what_is_left() -> None:
    flow = resumed("returned")
    refunds = of_type(flow.when(return_received(ORDER, {"TEA-2": 1})), RefundIssued)
    assert [(r.amount, r.payment_id) for r in refunds] == [(Decimal("49.50"), "o-old:placement")]
    assert flow.state is not None and flow.state.status == "partially_returned"


def test_a_stored_unpaid_order_still_expires_and_is_paid_as_before() -> None:
    flow = resumed("awaiting")
    assert flow.state is not None and is_payment_overdue(flow.state, at(31))
    outputs = flow.when(paid(ORDER, "10.00"))
    assert [type(data).__name__ for data in outputs][:2] == ["PaymentRecorded", "OrderConfirmed"]
    assert of_type(outputs, PaymentRecorded)[0].balance_due == 0


def test_a_stored_backordered_order_ships_when_its_last_line_is_reserved() -> None:
    flow = resumed("backordered")
    assert [r.shipment_id for r in of_type(flow.when(reserved(ORDER, "TEA-2", 2)), ShipmentRequested)] == ["o-old-S1"]
