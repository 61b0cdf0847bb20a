"""The orders view derives what the order processor decided, under random histories of one order.

The histories of `test_rules_order_properties` (payments in time, late, twice, in another currency, before the
order; refunds the shop made itself; changes; cancellations; stock answers; parcels; deliveries; returns,
inspections, exchanges) go through
the real rules; the view folds what a projector would read (the inputs and outputs on `oms.orders` and
`oms.shipments`, requests and refusals included, dead-lettered inputs too) and must show after each decision:
the processor's order status and payment status, its charge, captured, refunded and amount due.

Three things the processor decides reach no event, and the test names them when they happen (see the report of
issue 13): a backordered line that gets its stock while the order waits for money announces nothing; a line
backordered again just as the last announcement said (after it was reserved or changed) announces nothing; and
an inspection that refunds nothing (the customer still owed more) names no credited units.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from events import Event, EventData, RefundReported, new_event, topics
from pipeline.rules.common import Rejected
from pipeline.rules.ledger import captured, refunded
from pipeline.rules.order_status import amount_due, cost, payment_status
from pipeline.rules.orders import OrderState
from projections.money import amount
from projections.orders import FOLDED_TOPICS, evolve_order
from projections.rows import Row
from tests.unit.rules_support import at, paid, placed
from tests.unit.test_rules_order_properties import HISTORIES, ORDER, PRICES, actions, decide, orders, to_event


def fold(row: Row | None, events: list[Event[EventData]]) -> Row | None:
    for happening in events:
        if happening.data.topic in FOLDED_TOPICS:
            row = evolve_order(row, happening)
    return row


def backorder_cleared_silently(state: OrderState, row: Row) -> bool:
    """A line the view still sees backordered got its stock; the processor announced nothing on the order."""
    lines = {line["sku"]: line for line in row["lines"]}
    return any(line.stock == "reserved" and lines[line.sku]["backordered"] for line in state.active_lines())


def backordered_again_silently(state: OrderState, row: Row) -> bool:
    """A line waits for stock again exactly as the last announcement said (it was reserved or changed in between):
    the processor compares with its last announcement and announces nothing (nor tells the customer)."""
    lines = {line["sku"]: line for line in row["lines"]}
    announced = {(line.sku, line.qty) for line in state.announced_backorder}
    return any(
        line.stock == "backordered" and not lines[line.sku]["backordered"] and (line.sku, line.qty) in announced
        for line in state.active_lines()
    )


def credited_silently(state: OrderState, row: Row) -> bool:
    """Units were inspected and credited, but no refund (nor receipt) named them: nothing went back."""
    lines = {line["sku"]: line for line in row["lines"]}
    return any(line.credited != lines[line.sku]["credited"] for line in state.lines)


def assert_view_shows(state: OrderState, row: Row) -> None:
    """Everything the contract lets the view know equals what the processor holds."""
    if credited_silently(state, row):
        event("blind spot: an inspection that refunded nothing")
        return
    assert row["payment_status"] == payment_status(state)
    assert amount(row["total_amount"]) == cost(state)
    assert amount(row["captured_amount"]) == captured(state.payments)
    assert amount(row["refunded_amount"]) == refunded(state.payments)
    assert amount(row["balance_due"]) == amount_due(state)
    if row["status"] == state.status:
        return
    if backorder_cleared_silently(state, row):
        event("blind spot: a backorder cleared while the order waits for money")
        assert (row["status"], state.status) in {("backordered", "awaiting_payment"), ("backordered", "placed")}
    elif backordered_again_silently(state, row):
        event("blind spot: backordered again as last announced")
        assert (row["status"], state.status) in {("awaiting_payment", "backordered"), ("placed", "backordered")}
    else:
        raise AssertionError(f"status {row['status']} != {state.status}")


shop_refunds = st.builds(
    lambda which, how_much, refund_id: ("reported", which, how_much, refund_id),
    st.sampled_from(("first", "last", "p-unknown")),
    st.sampled_from(("1.00", "5.00", "rest")),
    st.sampled_from(("r-1", "r-2", "r-3")),
)
"""A refund the shop made itself (`oms.refund.reported`): of the order's first or last payment, or of one it does
not have; some, or all it has left; a refund id sent again now and then."""


def to_input(action: tuple[Any, ...], state: OrderState | None, reports: dict[str, Decimal]) -> Event[EventData] | None:
    if action[0] != "reported":
        return to_event(action, state, reports)
    if state is None or state.order is None or not state.payments:
        return None
    _, which, how_much, refund_id = action
    payment = state.payments[0] if which == "first" else state.payments[-1]
    payment_id = payment.payment_id if which != "p-unknown" else "p-unknown"
    left = payment.captured - payment.reported
    value = left if how_much == "rest" else Decimal(how_much)
    if value <= 0:
        return None
    data = RefundReported(
        order_id=ORDER, payment_id=payment_id, refund_id=refund_id, amount=value, currency="EUR", reason="goodwill"
    )
    return new_event(data, source="tests", time=at(1))


@HISTORIES
@given(order=orders, history=st.lists(st.one_of(actions, shop_refunds), min_size=8, max_size=40))
def test_the_view_shows_what_the_processor_decided(order: dict[str, Any], history: list[tuple[Any, ...]]) -> None:
    reports: dict[str, Decimal] = {}
    state: OrderState | None = None
    row: Row | None = None
    opening = placed(
        ORDER,
        {sku: qty for sku, qty in order["lines"].items() if qty},
        prices=PRICES,
        paid=order["paid"],
        split=order["split"],
        discount=Decimal(order["discount"]),
        shipping_charge=Decimal(order["shipping"]),
        capture=order["capture"],
    )
    inputs: list[Event[EventData] | tuple[Any, ...]] = [opening, *history]
    if order["paid_before"]:
        inputs.insert(0, paid(ORDER, "5.00", payment_id="p-early", currency="EUR"))
        reports["p-early"] = Decimal("5.00")
    for item in inputs:
        happening = item if isinstance(item, Event) else to_input(item, state, reports)
        if happening is None:
            continue
        try:
            decision = decide(state, happening, at(1))
        except Rejected:
            row = fold(row, [happening])  # dead-lettered: the view reads it and must not move
            continue
        state = decision.state
        row = fold(row, [happening, *decision.emitted])
        if state is not None and state.order is not None and row is not None:
            event(f"status {state.status}")
            event(f"payment {payment_status(state)}")
            if any(payment.conceded for payment in state.payments):
                event("the shop conceded money")
            assert_view_shows(state, row)


def test_the_view_reads_only_its_topics() -> None:
    assert set(FOLDED_TOPICS) == {topics.ORDERS, topics.SHIPMENTS}
