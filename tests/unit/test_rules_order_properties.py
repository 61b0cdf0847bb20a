"""Properties of the order rules' money under random histories of one order.

For any sequence of payments (in time, late, twice, in another currency, before the order), changes,
cancellations, stock answers, shipments, deliveries, returns, inspections and exchanges:
- no payment ever gets back more than it captured, and every refund names its payment;
- the money events the processor emits (placement, oms.payment.recorded, oms.refund.issued) fold to its
  ledger, payment by payment: a view can rebuild captured and refunded from the log;
- the balance is the order's total - captured + refunded, every amount due it announces is that balance,
  no excess is ever kept (what is paid above the total is refunded in the same decision), and a refund
  gives back exactly the excess, never more;
- a cancelled order that was paid ends refunded in full (nothing ships once anything could be cancelled);
- a refusal leaves the state as it was; every decision's output ids are distinct; the state round-trips.

Fast by default (the `dev` profile); `HYPOTHESIS_PROFILE=nightly` runs many more examples.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from events import (
    Event,
    EventData,
    OrderAwaitingPayment,
    OrderRequestRefused,
    PaymentRecorded,
    RefundIssued,
    ShipmentRequested,
)
from pipeline.rules.common import Rejected
from pipeline.rules.ledger import captured, refunded
from pipeline.rules.money import rounded
from pipeline.rules.order_status import balance
from pipeline.rules.orders import OrderState, decide_order, is_payment_overdue, payment_expired
from tests.profiles import examples
from tests.unit.rules_support import (
    at,
    cancel_requested,
    change_requested,
    delivered,
    dispatched,
    failed,
    paid,
    placed,
    reserved,
    return_inspected,
    return_received,
    return_requested,
)

HISTORIES = settings(max_examples=examples(100, 2000), deadline=None, suppress_health_check=[HealthCheck.too_slow])

ORDER = "o-prop"
SKUS = ("MUG-1", "TEA-2")
PRICES = {"MUG-1": "10.00", "TEA-2": "7.35", "JAM-3": "4.20"}
TIMEOUT = timedelta(minutes=30)
decide = partial(decide_order, payment_timeout=TIMEOUT)

skus = st.sampled_from(SKUS)
payments = st.builds(
    lambda pid, step, kind: ("pay", pid, step, kind),
    st.sampled_from(("p-1", "p-2", "p-3")),
    st.sampled_from(("0.01", "5.00", "7.35", "10.00", "due", "due", "repeat")),
    st.sampled_from(("captured", "captured", "captured", "authorized")),
)
rarely = st.integers(0, 7).map(lambda n: n == 0)  # cancel and expiry end the story: keep them rare
reserves = st.builds(lambda sku: ("reserve", sku), skus)
moves = st.sampled_from((("dispatch",), ("dispatch",), ("deliver",)))
returns = st.one_of(
    st.builds(lambda sku, qty, swap: ("return", sku, qty, swap), skus, st.integers(1, 2), st.booleans()),
    st.builds(
        lambda sku, qty, good: ("receive", sku, qty, good),
        skus,
        st.integers(1, 2),
        st.sampled_from((None, True, False)),
    ),
    st.builds(lambda sku, good: ("inspect", sku, good), skus, st.booleans()),
)
actions = st.one_of(
    st.just(("progress",)),
    st.just(("progress",)),
    st.just(("progress",)),
    payments,
    reserves,
    moves,
    returns,
    returns,
    st.just(("pay_usd",)),
    st.builds(lambda sku: ("backorder", sku), skus),
    st.builds(lambda sku: ("stale", sku), skus),
    st.builds(lambda sku, qty: ("change", sku, qty), st.sampled_from((*SKUS, "JAM-3")), st.integers(0, 3)),
    st.builds(lambda go: ("cancel", go), rarely),
    st.builds(lambda go: ("expire", go), rarely),
)
orders = st.fixed_dictionaries(
    {
        "lines": st.fixed_dictionaries({"MUG-1": st.integers(1, 3), "TEA-2": st.integers(0, 2)}),
        "paid": st.booleans(),
        "split": st.booleans(),
        "discount": st.sampled_from(("0", "0", "1.00", "3.33")),
        "shipping": st.sampled_from(("0", "4.90")),
        "capture": st.sampled_from(("at_order", "at_order", "at_shipment")),
        "paid_before": st.booleans(),
    }
)


class Ledger:
    """Captured and refunded per payment, folded from the events only, as a view would."""

    def __init__(self) -> None:
        self.captured: dict[str, Decimal] = defaultdict(Decimal)
        self.refunded: dict[str, Decimal] = defaultdict(Decimal)

    def fold(self, data: EventData, state: OrderState) -> None:
        if isinstance(data, PaymentRecorded) and data.kind == "captured":
            self.captured[data.payment_id] = data.amount
        if isinstance(data, RefundIssued):
            assert data.payment_id is not None, "a refund names its payment"
            self.refunded[data.payment_id] += data.amount

    def matches(self, state: OrderState) -> bool:
        placement = f"{ORDER}:placement"
        ours = {p.payment_id: (p.captured, p.refunded) for p in state.payments if p.payment_id != placement}
        folded = {pid: (self.captured[pid], self.refunded[pid]) for pid in ours}
        return ours == folded


def to_event(action: tuple[Any, ...], state: OrderState | None, reports: dict[str, Decimal]) -> Event[EventData] | None:
    if state is None or state.order is None:
        return None
    match action:
        case ("progress",):
            return to_event(_next_step(state), state, reports)
        case ("pay", str(pid), str(step), str(kind)):
            due = max(rounded(balance(state), "EUR"), Decimal("0.01"))
            more = Decimal(0) if step == "repeat" else due if step == "due" else Decimal(step)
            reports[pid] = reports.get(pid, Decimal(0)) + more
            return paid(ORDER, str(reports[pid]), payment_id=pid, kind=kind)
        case ("pay_usd",):
            return paid(ORDER, "5.00", payment_id="p-usd", currency="USD")
        case ("reserve" | "backorder" | "stale", str(sku)):
            return _stock_answer(action[0], state, sku)
        case ("change", str(sku), int(qty)):
            return change_requested(ORDER, {sku: qty}, prices={sku: PRICES[sku]})
        case ("cancel", bool(go)):
            return cancel_requested(ORDER) if go else None
        case ("expire", bool(go)):
            later = at(days=30)
            return payment_expired(state, later) if go and is_payment_overdue(state, later) else None
        case ("dispatch",):
            waiting = [s for s in state.shipments if not s.dispatched]
            qtys = {sku: state.line(sku).qty for sku in waiting[0].skus} if waiting else {}
            return (
                dispatched(ORDER, waiting[0].shipment_id, qtys, tracking=f"T-{waiting[0].shipment_id}")
                if waiting
                else None
            )
        case ("deliver",):
            parcel = next((s for s in state.shipments if s.dispatched and not s.delivered), None)
            return delivered(ORDER, str(parcel.tracking_number)) if parcel else None
        case ("return", str(sku), int(qty), bool(swap)):
            return return_requested(ORDER, {sku: qty}, replacements={"JAM-3": (1, PRICES["JAM-3"])} if swap else None)
        case ("receive", str(sku), int(qty), good):
            return return_received(ORDER, {sku: qty}, resellable=good)
        case ("inspect", str(sku), bool(good)):
            case_ = next((c for c in state.returns if c.uninspected(sku) > 0), None)
            kind = "resellable" if good else "unsellable"
            return return_inspected(ORDER, case_.rma, **{kind: {sku: 1}}) if case_ else None
    raise AssertionError(f"unexpected action {action}")


def _next_step(state: OrderState) -> tuple[Any, ...]:
    """What would move the order on: stock for a waiting line, the money due, a parcel out, a delivery."""
    waiting = next((line for line in state.active_lines() if line.stock in ("requested", "backordered")), None)
    if waiting is not None:
        return ("reserve", waiting.sku)
    if rounded(balance(state), "EUR") > 0 and not state.is_cancelled:
        return ("pay", "p-1", "due", "captured")
    if any(not shipment.dispatched for shipment in state.shipments):
        return ("dispatch",)
    if any(shipment.dispatched and not shipment.delivered for shipment in state.shipments):
        return ("deliver",)
    open_case = next((case for case in state.returns if case.is_open), None)
    if open_case is not None:
        sku, qty = next((sku, qty) for sku, qty in open_case.lines.items() if open_case.still_expected(sku))
        return ("receive", sku, min(qty, open_case.still_expected(sku)), None)
    unchecked = next((sku for case in state.returns for sku in case.received if case.uninspected(sku)), None)
    if unchecked is not None:
        return ("inspect", unchecked, True)
    return ("return", state.lines[0].sku, 1, len(state.returns) % 2 == 1)


def _stock_answer(kind: str, state: OrderState, sku: str) -> Event[EventData] | None:
    line = state.find_line(sku)
    if line is None or not line.is_active:
        return None
    if kind == "reserve":
        return reserved(ORDER, sku, line.qty, revision=line.revision)
    if kind == "backorder":
        return failed(ORDER, sku, line.qty, at(days=2), revision=line.revision)
    return reserved(ORDER, sku, line.qty, revision=line.revision - 1) if line.revision else None


def check(before: OrderState | None, happening: Event[EventData], state: OrderState, emitted: list[EventData]) -> None:
    for payment in state.payments:
        assert Decimal(0) <= payment.refunded <= payment.captured, f"{payment.payment_id} refunded beyond its capture"
    if state.order is None:
        return
    assert balance(state) == state.charge() - captured(state.payments) + refunded(state.payments)
    if state.placed.capture == "at_order":
        assert rounded(balance(state), "EUR") >= 0, "an excess was kept instead of refunded"
        if any(isinstance(data, RefundIssued) for data in emitted):
            assert rounded(balance(state), "EUR") == 0, "refunded more than the order no longer needs"
        for awaiting in (data for data in emitted if isinstance(data, OrderAwaitingPayment)):
            assert awaiting.amount_due == rounded(balance(state), "EUR")
    if state.is_cancelled:
        assert captured(state.payments) == refunded(state.payments), "a cancelled order keeps money"
        assert all(p.uncaptured == 0 for p in state.payments), "an authorization of a cancelled order is open"
        assert not any(isinstance(data, ShipmentRequested) for data in emitted)
    if any(isinstance(data, OrderRequestRefused) for data in emitted):
        assert before == state, "a refusal changed the state"
    assert OrderState.from_bytes(state.to_bytes()) == state


@HISTORIES
@given(order=orders, history=st.lists(actions, min_size=8, max_size=40))
def test_random_histories_keep_the_money_invariants(order: dict[str, Any], history: list[tuple[Any, ...]]) -> None:
    ledger, reports = Ledger(), {}
    state: OrderState | None = None
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
        happening = item if isinstance(item, Event) else to_event(item, state, reports)
        if happening is None:
            continue
        try:
            decision = decide(state, happening, at(1))
        except Rejected:
            continue
        assert decision.state is not None
        emitted = [e.data for e in decision.emitted]
        assert len({e.id for e in decision.emitted}) == len(decision.emitted), "two outputs share an id"
        for data in emitted:
            ledger.fold(data, decision.state)
            event(type(data).__name__)  # --hypothesis-show-statistics: what the histories reached
        check(state, happening, decision.state, emitted)
        state = decision.state
        assert ledger.matches(state), "the money events do not fold to the ledger"
