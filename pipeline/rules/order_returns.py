"""After-sales rules: a return may be asked for once shipped; received goods are refunded and maybe restocked."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from events import LineQty, RefundIssued, ReturnReceived, ReturnRequested, StockReturned
from pipeline.rules.common import Outputs, Rejected
from pipeline.rules.order_state import OrderState, notice

Outcome = tuple[OrderState, Outputs]
DEFAULT_REFUND_REASON = "returned goods received"


def request_return(state: OrderState, data: ReturnRequested) -> Outcome:
    returnable(state, data.lines)  # rejects lines the order did not ship
    return state.model_copy(update={"status": "return_requested", "return_reason": data.reason}), ()


def receive_return(state: OrderState, data: ReturnReceived) -> Outcome:
    """Refund the returned lines at their order price; resellable goods go back on the shelf."""
    returning = returnable(state, data.lines)
    amount = sum((state.line(sku).unit_price * qty for sku, qty in returning.items()), Decimal(0))
    restock: Outputs = tuple(
        (f"restock:{sku}", StockReturned(sku=sku, order_id=state.order_id, qty=qty)) for sku, qty in returning.items()
    )
    refund = RefundIssued(
        order_id=state.order_id,
        amount=amount,
        currency=state.order.currency,
        reason=state.return_reason or DEFAULT_REFUND_REASON,
    )
    returned = Counter(state.returned) + returning
    state = state.model_copy(update={"status": "returned", "returned": dict(returned), "return_reason": None})
    refunded = notice(state, "refunded", amount=format(amount, "f"), currency=state.order.currency)
    return state, (*(restock if data.resellable else ()), ("refund", refund), ("notify:refunded", refunded))


def returnable(state: OrderState, lines: tuple[LineQty, ...]) -> Counter[str]:
    """The returned quantities per sku, if the order shipped them and they did not come back already."""
    if not state.has_shipped:
        raise Rejected(f"order {state.order_id} is {state.status}; only shipped or delivered orders can be returned")
    returning: Counter[str] = Counter()
    for line in lines:
        returning[line.sku] += line.qty
    for sku, qty in returning.items():
        _check_returnable(state, sku, qty)
    return returning


def _check_returnable(state: OrderState, sku: str, qty: int) -> None:
    ordered = state.line(sku).qty
    shipped = ordered if sku in state.dispatched_skus() else 0
    back = state.returned.get(sku, 0)
    if qty > shipped - back:
        raise Rejected(
            f"cannot return {qty} x {sku} of order {state.order_id}: {shipped} shipped, {back} returned already"
        )
