"""Stock events, on `oms.inventory`, keyed by sku."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from events import topics
from events.base import Count, EventData, OrderId, Quantity, SignedCount, Sku, UtcDatetime


class _StockEvent(EventData):
    topic = topics.INVENTORY
    key_field = "sku"
    sku: Sku


# --- inbound: published by ops and warehouses ----------------------------------------------


class StockReceived(_StockEvent):
    event_type = "oms.stock.received"
    qty: Quantity
    warehouse: str | None = Field(default=None, max_length=64)
    purchase_order: str | None = Field(default=None, max_length=64)


class StockIncomingScheduled(_StockEvent):
    """A purchase order is on its way; its ETA is promised to backordered customers."""

    event_type = "oms.stock.incoming_scheduled"
    qty: Quantity
    eta: UtcDatetime
    purchase_order: str = Field(min_length=1, max_length=64)


class StockAdjusted(_StockEvent):
    """A stock count correction (shrinkage, damage, found goods)."""

    event_type = "oms.stock.adjusted"
    delta: int = Field(ge=-1_000_000, le=1_000_000)
    reason: str = Field(min_length=1, max_length=200)


class StockReorderPolicySet(_StockEvent):
    event_type = "oms.stock.reorder_policy_set"
    reorder_point: Count
    reorder_qty: Count


# --- requests from the order processor -----------------------------------------------------


Revision = Annotated[int, Field(ge=0, le=1_000_000)]
"""Which request of an order line an answer is for: 0 at placement, one more at each change of the line."""


class StockReservationRequested(_StockEvent):
    """An order line asks for stock. `placed_at` orders the backorder queue.

    v2: `revision`. A request with a higher revision than the order's current one for this sku replaces it
    (the line's quantity changed): the inventory gives the old reservation or queue place back (as
    `oms.stock.released`) and answers the new quantity, keeping the line's place in the queue.
    """

    event_type = "oms.stock.reservation_requested"
    schema_version = 2
    order_id: OrderId
    qty: Quantity
    placed_at: UtcDatetime
    revision: Revision = 0


class StockReleaseRequested(_StockEvent):
    """An order gives its reservation (or its place in the backorder queue) back."""

    event_type = "oms.stock.release_requested"
    order_id: OrderId
    reason: str


class StockCommitRequested(_StockEvent):
    """The shipment left: the reserved units leave the shelf."""

    event_type = "oms.stock.commit_requested"
    order_id: OrderId
    qty: Quantity


class StockReturned(_StockEvent):
    """Resellable goods came back from a customer."""

    event_type = "oms.stock.returned"
    order_id: OrderId
    qty: Quantity


# --- emitted by the inventory processor ----------------------------------------------------


class StockReserved(_StockEvent):
    """`qty` reserved for `order_id`. v2: `revision` of the request it answers."""

    event_type = "oms.stock.reserved"
    schema_version = 2
    order_id: OrderId
    qty: Quantity
    from_backorder: bool = False
    revision: Revision = 0


class StockReservationFailed(_StockEvent):
    """Not enough available stock: the line waits in the backorder queue, with an ETA if known.
    v2: `revision` of the request it answers."""

    event_type = "oms.stock.reservation_failed"
    schema_version = 2
    order_id: OrderId
    qty: Quantity
    reason: str
    eta: UtcDatetime | None = None
    revision: Revision = 0


class StockReleased(_StockEvent):
    event_type = "oms.stock.released"
    order_id: OrderId
    qty: Count
    reason: str
    was_reserved: bool


class StockCommitted(_StockEvent):
    event_type = "oms.stock.committed"
    order_id: OrderId
    qty: Quantity


class StockLow(_StockEvent):
    """Available stock fell below the reorder point; emitted once per crossing."""

    event_type = "oms.stock.low"
    available: SignedCount
    reorder_point: Count
    incoming: Count
    backordered: Count
    suggested_reorder_qty: Count


STOCK_EVENTS: tuple[type[EventData], ...] = (
    StockReceived,
    StockIncomingScheduled,
    StockAdjusted,
    StockReorderPolicySet,
    StockReservationRequested,
    StockReleaseRequested,
    StockCommitRequested,
    StockReturned,
    StockReserved,
    StockReservationFailed,
    StockReleased,
    StockCommitted,
    StockLow,
)
