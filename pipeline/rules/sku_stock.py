"""The state of one sku and the questions it answers: what is free, what waits, when it can be served."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from events.base import UtcDatetime
from pipeline.rules.common import RuleState

ORDER_IDS_KEPT = 1000
"""How many committed and released order ids a sku remembers, to drop late duplicate requests."""


class IncomingOrder(RuleState):
    """A purchase order on its way."""

    purchase_order: str
    qty: int
    eta: UtcDatetime


class Backorder(RuleState):
    """An order line waiting in the queue. `eta` is the date last promised to the order (None: unknown).
    `revision`: which request of the order line it is (the answers carry it)."""

    order_id: str
    qty: int
    placed_at: UtcDatetime
    arrival: int
    eta: UtcDatetime | None = None
    revision: int = 0

    @property
    def position(self) -> tuple[datetime, int]:
        """Queue order: oldest placement first, ties by arrival at this sku."""
        return (self.placed_at, self.arrival)


class SkuStock(RuleState):
    """Stock of one sku. Invariant: reserved <= on_hand; a queued line's head never fits what is available."""

    sku: str
    on_hand: int = 0
    reservations: dict[str, int] = {}
    incoming: tuple[IncomingOrder, ...] = ()
    backorders: tuple[Backorder, ...] = ()
    arrivals: int = 0
    reorder_point: int = 0
    reorder_qty: int = 0
    low_flagged: bool = False
    committed: tuple[str, ...] = ()
    released: tuple[str, ...] = ()
    revisions: dict[str, int] = {}
    """The latest request revision per order line that changed (0 is not kept), newest last."""

    @property
    def reserved(self) -> int:
        return sum(self.reservations.values())

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def incoming_total(self) -> int:
        return sum(order.qty for order in self.incoming)

    @property
    def backordered_total(self) -> int:
        return sum(line.qty for line in self.backorders)

    def queued(self, order_id: str) -> Backorder | None:
        return next((line for line in self.backorders if line.order_id == order_id), None)

    def revision(self, order_id: str) -> int:
        return self.revisions.get(order_id, 0)

    def holds(self, order_id: str) -> bool:
        return order_id in self.reservations or self.queued(order_id) is not None

    def knows(self, order_id: str) -> bool:
        """True if the order holds, waits for, or already finished with this sku."""
        return (
            order_id in self.reservations
            or self.queued(order_id) is not None
            or order_id in self.committed
            or order_id in self.released
        )


def is_low(stock: SkuStock) -> bool:
    return stock.reorder_point > 0 and stock.available < stock.reorder_point


def suggested_reorder_qty(stock: SkuStock) -> int:
    """How much to order so the projected stock gets back to reorder point + reorder qty.

    projected = available + incoming - backordered
    suggestion = max(reorder_qty, reorder_point + reorder_qty - projected), never below 0
               = max(reorder_qty, reorder_point + reorder_qty + backordered - available - incoming)

    Ordering at least `reorder_qty` keeps the usual lot size; ordering more covers the waiting customers.
    """
    shortfall = (
        stock.reorder_point + stock.reorder_qty + stock.backordered_total - stock.available - stock.incoming_total
    )
    return max(stock.reorder_qty, shortfall, 0)


def backorders_with_etas(stock: SkuStock) -> tuple[Backorder, ...]:
    """The queue with each line's ETA recomputed from what is available and incoming now."""
    etas = tuple(backorder_etas(stock))
    return tuple(
        line if line.eta == eta else line.model_copy(update={"eta": eta})
        for line, eta in zip(stock.backorders, etas, strict=True)
    )


def backorder_etas(stock: SkuStock) -> Iterator[datetime | None]:
    """For each queued line in order: when incoming purchase orders cover it, or None if they never do.

    A line is covered by the first purchase order (in ETA order) at which the cumulative incoming qty
    reaches the queued qty up to and including that line, less what is available now.
    """
    pending = iter(stock.incoming)
    arrived, last_eta = 0, None
    need = -stock.available
    for line in stock.backorders:
        need += line.qty
        while arrived < need and (order := next(pending, None)) is not None:
            arrived, last_eta = arrived + order.qty, order.eta
        yield last_eta if arrived >= need else None


def by_eta(incoming: tuple[IncomingOrder, ...]) -> tuple[IncomingOrder, ...]:
    return tuple(sorted(incoming, key=lambda order: (order.eta, order.purchase_order)))


def by_position(backorders: tuple[Backorder, ...]) -> tuple[Backorder, ...]:
    return tuple(sorted(backorders, key=lambda line: line.position))
