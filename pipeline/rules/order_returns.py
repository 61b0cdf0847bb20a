"""After-sales: return authorization (RMA), receipt, inspection, refund of what was paid, exchanges.

A return is refunded for what the customer paid for those units (their line's charge after its discount
share, pro rata per unit; shipping is not given back), shared among the payments pro rata of what each has
left. Only resellable units go back on the shelf. An exchange adds its replacement lines when the returned
goods are inspected; the difference is refunded or due.
"""

from __future__ import annotations

from collections import Counter

from events import (
    LineQty,
    ReturnAuthorized,
    ReturnInspected,
    ReturnReceived,
    ReturnRecorded,
    ReturnRequested,
    StockReservationRequested,
    StockReturned,
)
from events.base import UtcDatetime
from pipeline.rules.common import Outputs, Refused
from pipeline.rules.money import rounded
from pipeline.rules.order_changes import changed_event
from pipeline.rules.order_refunds import RefundWhy, settle
from pipeline.rules.order_state import Line, OrderState, ReturnCase, rma_for
from pipeline.rules.order_status import money, notify

Outcome = tuple[OrderState, Outputs]
DEFAULT_REFUND_REASON = "returned goods received"


def request_return(state: OrderState, data: ReturnRequested) -> Outcome:
    """Authorize the return under a new RMA number, if the order shipped those units and they are not
    back (or announced) already; replacement lines must be skus the order does not have."""
    returning = counted(data.lines)
    check_returnable(state, returning)
    for replacement in data.replacements:
        if state.find_line(replacement.sku) is not None:
            raise Refused(
                "invalid_change",
                f"{replacement.sku} is on order {state.order_id} already; exchange it for another sku",
            )
    case = ReturnCase(
        rma=rma_for(state.order_id, len(state.returns) + 1),
        reason=data.reason,
        lines=dict(returning),
        replacements=data.replacements,
    )
    state, authorized = _authorize(state, case)
    return state, (*authorized, *notify(state, "return_authorized", rma=case.rma))


def _authorize(state: OrderState, case: ReturnCase) -> Outcome:
    authorized = ReturnAuthorized(
        order_id=state.order_id,
        rma=case.rma,
        lines=_line_qtys(case.lines),
        reason=case.reason,
        replacements=case.replacements,
    )
    return state.with_return(case), (("return_authorized", authorized),)


def receive_return(state: OrderState, data: ReturnReceived, now: UtcDatetime) -> Outcome:
    """Take goods back against their RMA (named, the oldest open one that expects them, or a new one).
    Inspected at receipt (`resellable` given): restock and refund at once; else when inspected."""
    returning = counted(data.lines)
    state, case, outputs = _case_for(state, data.rma, returning)
    for sku, qty in returning.items():
        if qty > case.still_expected(sku):
            raise Refused(
                "not_returnable",
                f"cannot receive {qty} x {sku} on {case.rma}: {case.still_expected(sku)} still expected",
            )
    received = Counter(case.received) + returning
    state = state.with_return(case.model_copy(update={"received": dict(received)}))
    for sku, qty in returning.items():
        line = state.line(sku)
        state = state.with_line(line.model_copy(update={"returned": line.returned + qty}))
    inspected = data.resellable is not None
    recorded = ReturnRecorded(order_id=state.order_id, rma=case.rma, lines=data.lines, inspected=inspected)
    outputs = (*outputs, ("return_recorded", recorded))
    if data.resellable is None:
        return state, (*outputs, *notify(state, "return_received", rma=case.rma))
    good, bad = (returning, Counter[str]()) if data.resellable else (Counter[str](), returning)
    state, settled = _inspect(state, case.rma, good, bad, now)
    return state, (*outputs, *settled)


def inspect_return(state: OrderState, data: ReturnInspected, now: UtcDatetime) -> Outcome:
    if state.return_case(data.rma) is None:
        raise Refused("unknown_return", f"order {state.order_id} has no return {data.rma}")
    return _inspect(state, data.rma, counted(data.resellable), counted(data.unsellable), now)


def _inspect(state: OrderState, rma: str, good: Counter[str], bad: Counter[str], now: UtcDatetime) -> Outcome:
    """Restock the resellable units, credit every inspected unit, add an exchange's replacements, settle."""
    case = state.return_case(rma)
    if case is None:
        raise Refused("unknown_return", f"order {state.order_id} has no return {rma}")
    inspected = good + bad
    for sku, qty in inspected.items():
        if qty > case.uninspected(sku):
            raise Refused("not_returnable", f"cannot inspect {qty} x {sku} of {rma}: {case.uninspected(sku)} received")
    for sku, qty in inspected.items():
        line = state.line(sku)
        state = state.with_line(line.model_copy(update={"credited": line.credited + qty}))
    case = case.model_copy(update={"inspected": dict(Counter(case.inspected) + inspected)})
    restock: Outputs = tuple(
        (f"restock:{sku}", StockReturned(sku=sku, order_id=state.order_id, qty=qty)) for sku, qty in good.items()
    )
    state, exchange = _exchange(state.with_return(case), case, now)
    why = RefundWhy("exchange" if case.replacements else "return", case.reason, rma=rma, lines=_line_qtys(inspected))
    state, money_back, refunded = settle(state, why)
    told = notify(state, "refunded", rma=rma, **money(state, refunded)) if refunded else ()
    return state, (*restock, *exchange, *money_back, *told)


def _exchange(state: OrderState, case: ReturnCase, now: UtcDatetime) -> Outcome:
    """The first inspection of an exchange adds its replacement lines (at their price) and asks for stock."""
    if not case.replacements or case.replaced:
        return state, ()
    requests: Outputs = ()
    for replacement in case.replacements:
        if state.find_line(replacement.sku) is not None:
            continue  # put on the order by a change since the return was authorized
        line = Line(
            sku=replacement.sku,
            qty=replacement.qty,
            unit_price=replacement.unit_price,
            base_qty=replacement.qty,
            base_charge=rounded(replacement.unit_price * replacement.qty, state.currency),
            placed_at=now,
        )
        state = state.with_line(line)
        asked = StockReservationRequested(sku=line.sku, order_id=state.order_id, qty=line.qty, placed_at=now)
        requests = (*requests, (f"reserve:{line.sku}", asked))
    state = state.with_return(case.model_copy(update={"replaced": True}))
    return state, (("changed", changed_event(state, [], f"exchange {case.rma}")), *requests)


def _case_for(state: OrderState, rma: str | None, returning: Counter[str]) -> tuple[OrderState, ReturnCase, Outputs]:
    if rma is not None:
        named = state.return_case(rma)
        if named is None:
            raise Refused("unknown_return", f"order {state.order_id} has no return {rma}")
        return state, named, ()
    for case in state.returns:
        if all(case.still_expected(sku) >= qty for sku, qty in returning.items()):
            return state, case, ()
    check_returnable(state, returning)  # goods that came back unannounced: authorize them now
    case = ReturnCase(
        rma=rma_for(state.order_id, len(state.returns) + 1), reason=DEFAULT_REFUND_REASON, lines=dict(returning)
    )
    state, authorized = _authorize(state, case)
    return state, case, authorized


def check_returnable(state: OrderState, returning: Counter[str]) -> None:
    """Refused unless the order shipped (or handed over) those units and they are not back or announced."""
    if state.is_cancelled or not any(state.left_with_customer(line) + line.returned for line in state.lines):
        raise Refused(
            "not_returnable",
            f"order {state.order_id} is {state.status}; only shipped or delivered orders can be returned",
        )
    for sku, qty in returning.items():
        line = state.find_line(sku)
        if line is None:
            raise Refused("unknown_line", f"order {state.order_id} has no line for sku {sku}")
        shipped = line.qty if line.handed_over or sku in state.dispatched_skus() else 0
        announced = sum(case.still_expected(sku) for case in state.returns)
        if qty > shipped - line.returned - announced:
            open_returns = f", {announced} on open returns" if announced else ""
            raise Refused(
                "not_returnable",
                f"cannot return {qty} x {sku} of order {state.order_id}: "
                f"{shipped} shipped, {line.returned} returned already{open_returns}",
            )


def counted(lines: tuple[LineQty, ...]) -> Counter[str]:
    returning: Counter[str] = Counter()
    for line in lines:
        returning[line.sku] += line.qty
    return returning


def _line_qtys(quantities: dict[str, int] | Counter[str]) -> tuple[LineQty, ...]:
    return tuple(LineQty(sku=sku, qty=qty) for sku, qty in quantities.items() if qty > 0)
