"""Reservation requests of one sku: queue in placement order, serve the queue strictly first come first
served, and replace an order line's request when the line changed (a newer revision)."""

from __future__ import annotations

from datetime import datetime

from events import EventData, StockReleased, StockReservationFailed, StockReservationRequested, StockReserved
from pipeline.rules.common import Outputs
from pipeline.rules.sku_stock import ORDER_IDS_KEPT, Backorder, SkuStock, backorders_with_etas, by_position

INSUFFICIENT = "insufficient stock"

Outcome = tuple[SkuStock, Outputs]


def request_reservation(stock: SkuStock, data: StockReservationRequested) -> Outcome:
    """Queue the line in placement order, then serve the queue: it is reserved only if nothing older waits.

    A newer revision of an order's request (its line changed) replaces the old one: a reservation that
    can be resized in place is; otherwise the old reservation or queue place is given back and the new
    quantity waits at the line's old place in the queue."""
    if data.revision <= stock.revision(data.order_id) and stock.knows(data.order_id):
        return stock, ()  # a duplicate, or an older request than the one answered
    stock = _remember_revision(stock, data)
    held = stock.reservations.get(data.order_id)
    if held is not None and (data.qty <= held or _may_grow(stock, data, data.qty - held)):
        return _resize(stock, data, held)
    stock, given_back, arrival = _withdraw(stock, data.order_id, "order line changed")
    line = Backorder(
        order_id=data.order_id,
        qty=data.qty,
        placed_at=data.placed_at,
        arrival=stock.arrivals if arrival is None else arrival,
        revision=data.revision,
    )
    queued = stock.model_copy(
        update={"backorders": by_position((*stock.backorders, line)), "arrivals": stock.arrivals + 1}
    )
    stock, outputs = serve_backorders(queued, fresh=data.order_id)
    if stock.queued(data.order_id) is None:
        return stock, (*given_back, *outputs)
    stock, eta = _promise_eta(stock, data.order_id)
    failed = StockReservationFailed(
        sku=stock.sku, order_id=data.order_id, qty=data.qty, reason=INSUFFICIENT, eta=eta, revision=data.revision
    )
    return stock, (*given_back, *outputs, (f"backorder:{data.order_id}", failed))


def _remember_revision(stock: SkuStock, data: StockReservationRequested) -> SkuStock:
    if data.revision == 0:
        return stock
    kept = {order: rev for order, rev in stock.revisions.items() if order != data.order_id}
    newest = list({**kept, data.order_id: data.revision}.items())[-ORDER_IDS_KEPT:]
    return stock.model_copy(update={"revisions": dict(newest)})


def _may_grow(stock: SkuStock, data: StockReservationRequested, more: int) -> bool:
    """More units fit, and no line placed as early or earlier waits for them (the queue stays fair)."""
    return more <= stock.available and all(line.placed_at > data.placed_at for line in stock.backorders)


def _resize(stock: SkuStock, data: StockReservationRequested, held: int) -> Outcome:
    """The order line's new quantity fits where it is: the old reservation is given back and the new one
    taken in one step (so a fold of the log sees both), and what it frees serves the queue."""
    reservations = {**stock.reservations, data.order_id: data.qty}
    stock, served = serve_backorders(stock.model_copy(update={"reservations": reservations}))
    given_back = StockReleased(
        sku=stock.sku, order_id=data.order_id, qty=held, reason="order line changed", was_reserved=True
    )
    again = StockReserved(sku=stock.sku, order_id=data.order_id, qty=data.qty, revision=data.revision)
    return stock, ((f"release:{data.order_id}", given_back), (f"reserve:{data.order_id}", again), *served)


def _withdraw(stock: SkuStock, order_id: str, reason: str) -> tuple[SkuStock, Outputs, int | None]:
    """Take an order's reservation or queue place back without serving the queue (its new request goes
    in first); returns the place in arrival order it had in the queue, if it was queued."""
    held = stock.reservations.get(order_id)
    if held is not None:
        freed = stock.model_copy(update={"reservations": without(stock.reservations, order_id)})
        given_back = StockReleased(sku=stock.sku, order_id=order_id, qty=held, reason=reason, was_reserved=True)
        return freed, ((f"release:{order_id}", given_back),), None
    line = stock.queued(order_id)
    if line is None:
        return stock, (), None
    left = stock.model_copy(update={"backorders": tuple(queued for queued in stock.backorders if queued is not line)})
    given_up = StockReleased(sku=stock.sku, order_id=order_id, qty=line.qty, reason=reason, was_reserved=False)
    return left, ((f"release:{order_id}", given_up),), line.arrival


def serve_backorders(stock: SkuStock, fresh: str | None = None) -> Outcome:
    """Reserve queued lines oldest first while they fit; stop at the first that does not (strict FIFO).

    `fresh` is the order whose request is being handled: reserving it is not a service from backorder.
    """
    reservations = dict(stock.reservations)
    available = stock.available
    served: list[Backorder] = []
    for line in stock.backorders:
        if line.qty > available:
            break
        reservations[line.order_id] = line.qty
        available -= line.qty
        served.append(line)
    if not served:
        return stock, ()
    stock = stock.model_copy(update={"reservations": reservations, "backorders": stock.backorders[len(served) :]})
    return stock, tuple(_reserved(stock.sku, line, from_backorder=line.order_id != fresh) for line in served)


def _reserved(sku: str, line: Backorder, *, from_backorder: bool) -> tuple[str, EventData]:
    data = StockReserved(
        sku=sku, order_id=line.order_id, qty=line.qty, from_backorder=from_backorder, revision=line.revision
    )
    return f"reserve:{line.order_id}", data


def _promise_eta(stock: SkuStock, order_id: str) -> tuple[SkuStock, datetime | None]:
    """The ETA of the order's queued line, recorded on it as promised (the others are refreshed later)."""
    fresh = next(line for line in backorders_with_etas(stock) if line.order_id == order_id)
    lines = tuple(fresh if line.order_id == order_id else line for line in stock.backorders)
    return stock.model_copy(update={"backorders": lines}), fresh.eta


def without(mapping: dict[str, int], key: str) -> dict[str, int]:
    return {k: v for k, v in mapping.items() if k != key}
