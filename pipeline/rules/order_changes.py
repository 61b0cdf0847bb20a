"""Changing an order before it ships: cancel it, cancel or resize lines, add lines, ship elsewhere.

Nothing handed to shipping can change: a cancel and a dispatch can never both win. A change asks the
inventory again for the changed lines (a new revision replaces the old request) and moves the balance:
what the order no longer costs is refunded, what it costs more is due.
"""

from __future__ import annotations

from events import (
    Event,
    EventData,
    LineChange,
    OrderCancelled,
    OrderCancelRequested,
    OrderChanged,
    OrderChangeRequested,
    OrderLine,
    StockReleaseRequested,
    StockReservationRequested,
)
from pipeline.rules.common import Outputs, Refused
from pipeline.rules.money import ZERO, rounded
from pipeline.rules.order_refunds import RefundWhy, settle
from pipeline.rules.order_state import Line, OrderState
from pipeline.rules.order_status import money, notify

Outcome = tuple[OrderState, Outputs]
TOO_LATE_TO_CANCEL = "already handed to shipping; request a return instead"


def request_cancel(state: OrderState, data: OrderCancelRequested) -> Outcome:
    if state.is_cancelled:
        return state, ()
    if state.has_shipping():
        handed = ", ".join(sorted({line.shipment_id or "the till" for line in state.lines if line.is_with_shipping}))
        raise Refused("too_late_to_cancel", f"order {state.order_id} was {TOO_LATE_TO_CANCEL} ({handed})")
    return cancel(state, data.reason)


def cancel(state: OrderState, reason: str) -> Outcome:
    """Cancel: every line's stock (reservation or backorder place) goes back, every capture is refunded,
    every authorization voided, and the customer is told (with the refund)."""
    releases: Outputs = tuple(
        (f"release:{line.sku}", StockReleaseRequested(sku=line.sku, order_id=state.order_id, reason=reason))
        for line in state.active_lines()
    )
    lines = tuple(line.model_copy(update={"stock": "released"}) if line.is_active else line for line in state.lines)
    cancelled = state.model_copy(update={"status": "cancelled", "cancel_reason": reason, "lines": lines})
    cancelled, money_back, refunded = settle(cancelled, RefundWhy("cancellation", f"order cancelled: {reason}"))
    refund = money(cancelled, refunded, "refund_amount") if refunded else {}
    return cancelled, (
        ("cancelled", OrderCancelled(order_id=state.order_id, reason=reason)),
        *releases,
        *money_back,
        *notify(cancelled, "cancelled", reason=reason, **refund),
    )


def request_change(state: OrderState, event: Event[EventData], data: OrderChangeRequested) -> Outcome:
    """Apply every change or none: a line handed to shipping, or a new line without a price, refuses all."""
    if state.is_cancelled:
        raise Refused("order_cancelled", f"order {state.order_id} was cancelled ({state.cancel_reason})")
    changes = [change for change in data.lines if _changes_something(state, change)]
    for change in changes:
        _check_changeable(state, change)
    moving = data.shipping_address is not None and data.shipping_address != state.shipping_address
    if moving and all(line.is_with_shipping for line in state.active_lines()):
        raise Refused("line_handed_to_shipping", f"every line of order {state.order_id} was handed to shipping")
    if not changes and not moving:
        raise Refused("nothing_to_change", f"order {state.order_id} is already as requested")
    if not any(change.qty for change in changes) and not any(_qty_after(line, changes) for line in state.lines):
        return cancel(state, data.reason)  # every line taken off: that is a cancellation
    outputs: Outputs = ()
    for change in changes:
        state, asked = _apply(state, event, change, data.reason)
        outputs = (*outputs, asked)
    if moving:
        state = state.model_copy(update={"shipping_address": data.shipping_address})
    state, money_back, refunded = settle(state, RefundWhy("change", f"order changed: {data.reason}"))
    told = notify(state, "payment_refunded", reason=data.reason, **money(state, refunded)) if refunded else ()
    return state, (("changed", changed_event(state, changes, data.reason)), *outputs, *money_back, *told)


def _changes_something(state: OrderState, change: LineChange) -> bool:
    line = state.find_line(change.sku)
    return change.qty != (line.qty if line else 0)


def _check_changeable(state: OrderState, change: LineChange) -> None:
    line = state.find_line(change.sku)
    if line is not None and line.is_with_shipping:
        where = line.shipment_id or "the till"
        raise Refused(
            "line_handed_to_shipping",
            f"{change.sku} of order {state.order_id} was handed to shipping ({where}); return it instead",
        )
    if line is None and change.unit_price is None:
        raise Refused("invalid_change", f"{change.sku} is not on order {state.order_id}: a new line needs a unit_price")


def _qty_after(line: Line, changes: list[LineChange]) -> int:
    return next((change.qty for change in changes if change.sku == line.sku), line.qty)


def _apply(
    state: OrderState, event: Event[EventData], change: LineChange, reason: str
) -> tuple[OrderState, tuple[str, EventData]]:
    line = state.find_line(change.sku)
    if change.qty == 0 and line is not None:
        release = StockReleaseRequested(sku=line.sku, order_id=state.order_id, reason=reason)
        return state.with_line(line.model_copy(update={"qty": 0, "stock": "released", "eta": None})), (
            f"release:{line.sku}",
            release,
        )
    line = _resized(line, change, event) if line is not None else _added(change, event, state.currency)
    request = StockReservationRequested(
        sku=line.sku, order_id=state.order_id, qty=line.qty, placed_at=line.placed_at, revision=line.revision
    )
    return state.with_line(line), (f"reserve:{line.sku}", request)


def _resized(line: Line, change: LineChange, event: Event[EventData]) -> Line:
    """A new request for the line: a cancelled line that comes back joins the queue now, not at placement."""
    placed_at = line.placed_at if line.is_active else event.time
    update = {"qty": change.qty, "revision": line.revision + 1, "stock": "requested", "eta": None}
    return line.model_copy(update={**update, "placed_at": placed_at})


def _added(change: LineChange, event: Event[EventData], currency: str) -> Line:
    price = change.unit_price if change.unit_price is not None else ZERO
    return Line(
        sku=change.sku,
        qty=change.qty,
        unit_price=price,
        base_qty=change.qty,
        base_charge=rounded(price * change.qty, currency),
        placed_at=event.time,
    )


def changed_event(state: OrderState, changes: list[LineChange], reason: str) -> OrderChanged:
    return OrderChanged(
        order_id=state.order_id,
        lines=tuple(OrderLine(sku=li.sku, qty=li.qty, unit_price=li.unit_price) for li in state.active_lines()),
        cancelled_skus=tuple(change.sku for change in changes if change.qty == 0),
        shipping_address=state.shipping_address,
        total=state.charge(),
        reason=reason,
    )
