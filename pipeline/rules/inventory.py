"""Inventory rules, per sku: reserve, backorder in FIFO order, restock, release, commit, warn when low.

`decide_stock` is pure: the same state, event and `now` always give the same state and outputs (ids
included). Every output is also a fact the inventory log can be folded with: on hand moves with received,
adjusted, returned and committed; reserved with reserved, released (when was_reserved) and committed.
"""

from __future__ import annotations

from datetime import datetime

from events import (
    Event,
    EventData,
    StockAdjusted,
    StockCommitRequested,
    StockCommitted,
    StockIncomingScheduled,
    StockLow,
    StockReceived,
    StockReleased,
    StockReleaseRequested,
    StockReorderPolicySet,
    StockReservationFailed,
    StockReservationRequested,
    StockReturned,
)
from pipeline.rules.common import Decision, Outputs, Rejected, decision, remember, unchanged
from pipeline.rules.reservations import INSUFFICIENT, request_reservation, serve_backorders, without
from pipeline.rules.sku_stock import (
    ORDER_IDS_KEPT,
    Backorder,
    IncomingOrder,
    SkuStock,
    backorders_with_etas,
    by_eta,
    is_low,
    suggested_reorder_qty,
)

__all__ = ["SOURCE", "SkuStock", "decide_stock"]

SOURCE = "oms.pipeline.inventory"

Outcome = tuple[SkuStock, Outputs]


def decide_stock(state: SkuStock | None, event: Event[EventData], now: datetime) -> Decision[SkuStock]:
    outcome = _apply(state, event.data)
    if outcome is None:
        return unchanged(state)
    stock, outputs = outcome
    stock, eta_updates = _refresh_etas(stock)
    stock, low = _check_low(stock)
    return decision(event, stock, (*outputs, *eta_updates, *low), source=SOURCE, now=now)


def _apply(state: SkuStock | None, data: EventData) -> Outcome | None:
    stock = state or SkuStock(sku=data.partition_key())
    match data:
        case StockReservationRequested():
            return request_reservation(stock, data)
        case StockReceived():
            return restock(_receive_purchase_order(stock, data), data.qty)
        case StockReturned():
            return restock(stock, data.qty)
        case StockAdjusted():
            return adjust(stock, data)
        case StockIncomingScheduled():
            return _schedule(stock, data), ()
        case StockReleaseRequested():
            return release(stock, data)
        case StockCommitRequested():
            return commit(stock, data)
        case StockReorderPolicySet():
            return stock.model_copy(update={"reorder_point": data.reorder_point, "reorder_qty": data.reorder_qty}), ()
    return None


def restock(stock: SkuStock, qty: int) -> Outcome:
    return serve_backorders(stock.model_copy(update={"on_hand": stock.on_hand + qty}))


def adjust(stock: SkuStock, data: StockAdjusted) -> Outcome:
    if data.delta >= 0:
        return restock(stock, data.delta)
    left = stock.on_hand + data.delta
    if left < 0:
        raise Rejected(f"adjustment of {data.delta} would take {stock.sku} below zero: only {stock.on_hand} on hand")
    if left < stock.reserved:
        raise Rejected(
            f"adjustment of {data.delta} would leave {left} on hand under {stock.reserved} reserved; "
            "cancel or reassign orders first"
        )
    return stock.model_copy(update={"on_hand": left}), ()


def release(stock: SkuStock, data: StockReleaseRequested) -> Outcome:
    """Give back a reservation (and serve the queue with it) or a place in the queue; else nothing."""
    if data.order_id in stock.reservations:
        return _release_reservation(stock, data)
    line = stock.queued(data.order_id)
    if line is not None:
        return _leave_queue(stock, data, line)
    return stock, ()


def _release_reservation(stock: SkuStock, data: StockReleaseRequested) -> Outcome:
    held = stock.reservations[data.order_id]
    freed = stock.model_copy(
        update={
            "reservations": without(stock.reservations, data.order_id),
            "released": remember(stock.released, data.order_id, ORDER_IDS_KEPT),
        }
    )
    stock, served = serve_backorders(freed)
    given_back = StockReleased(sku=stock.sku, order_id=data.order_id, qty=held, reason=data.reason, was_reserved=True)
    return stock, ((f"release:{data.order_id}", given_back), *served)


def _leave_queue(stock: SkuStock, data: StockReleaseRequested, line: Backorder) -> Outcome:
    left = stock.model_copy(
        update={
            "backorders": tuple(queued for queued in stock.backorders if queued is not line),
            "released": remember(stock.released, data.order_id, ORDER_IDS_KEPT),
        }
    )
    # The head may have left: the next line could fit now.
    left, served = serve_backorders(left)
    given_up = StockReleased(
        sku=stock.sku, order_id=data.order_id, qty=line.qty, reason=data.reason, was_reserved=False
    )
    return left, ((f"release:{data.order_id}", given_up), *served)


def commit(stock: SkuStock, data: StockCommitRequested) -> Outcome:
    """The shipment left: the whole reservation of the order leaves the shelf."""
    held = stock.reservations.get(data.order_id)
    if held is None:
        if data.order_id in stock.committed:
            return stock, ()
        raise Rejected(_why_not_committable(stock, data))
    if held != data.qty:
        raise Rejected(
            f"commit of {data.qty} x {stock.sku} for order {data.order_id} does not match its reservation of {held}"
        )
    committed = stock.model_copy(
        update={
            "on_hand": stock.on_hand - held,
            "reservations": without(stock.reservations, data.order_id),
            "committed": remember(stock.committed, data.order_id, ORDER_IDS_KEPT),
        }
    )
    return committed, ((f"commit:{data.order_id}", StockCommitted(sku=stock.sku, order_id=data.order_id, qty=held)),)


def _receive_purchase_order(stock: SkuStock, data: StockReceived) -> SkuStock:
    """A receipt against a purchase order reduces what is still incoming on it."""
    if data.purchase_order is None:
        return stock
    incoming = tuple(
        order.model_copy(update={"qty": order.qty - data.qty}) if order.purchase_order == data.purchase_order else order
        for order in stock.incoming
    )
    return stock.model_copy(update={"incoming": tuple(order for order in incoming if order.qty > 0)})


def _schedule(stock: SkuStock, data: StockIncomingScheduled) -> SkuStock:
    """Add a purchase order, or replace the one with the same id."""
    order = IncomingOrder(purchase_order=data.purchase_order, qty=data.qty, eta=data.eta)
    others = tuple(known for known in stock.incoming if known.purchase_order != data.purchase_order)
    return stock.model_copy(update={"incoming": by_eta((*others, order))})


def _refresh_etas(stock: SkuStock) -> Outcome:
    """Recompute every queued line's ETA; tell the orders whose promised date changed."""
    lines = backorders_with_etas(stock)
    changed = tuple(new for old, new in zip(stock.backorders, lines, strict=True) if old.eta != new.eta)
    if not changed:
        return stock, ()
    updates = tuple((f"eta:{line.order_id}", _still_waiting(stock.sku, line)) for line in changed)
    return stock.model_copy(update={"backorders": lines}), updates


def _still_waiting(sku: str, line: Backorder) -> StockReservationFailed:
    return StockReservationFailed(
        sku=sku, order_id=line.order_id, qty=line.qty, reason=INSUFFICIENT, eta=line.eta, revision=line.revision
    )


def _check_low(stock: SkuStock) -> Outcome:
    """Warn once per crossing below the reorder point; re-arm when available is back at or above it."""
    if not is_low(stock):
        return (stock.model_copy(update={"low_flagged": False}) if stock.low_flagged else stock), ()
    if stock.low_flagged:
        return stock, ()
    low = StockLow(
        sku=stock.sku,
        available=stock.available,
        reorder_point=stock.reorder_point,
        incoming=stock.incoming_total,
        backordered=stock.backordered_total,
        suggested_reorder_qty=suggested_reorder_qty(stock),
    )
    return stock.model_copy(update={"low_flagged": True}), (("low", low),)


def _why_not_committable(stock: SkuStock, data: StockCommitRequested) -> str:
    if stock.queued(data.order_id) is not None:
        return f"order {data.order_id} still waits for {stock.sku} in the backorder queue; it cannot ship yet"
    if data.order_id in stock.released:
        return f"order {data.order_id} released its {stock.sku}; it was cancelled, so nothing can ship"
    return f"order {data.order_id} holds no reservation of {stock.sku} to commit"
