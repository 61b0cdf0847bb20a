"""Changing an order before it ships, and the order processor's refusals, on `oms.orders`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from events import topics
from events.base import EventData, Money, OrderId, Sku
from events.common import Address, Frozen, OrderLine

RefusalCode = Literal[
    "too_late_to_cancel",
    "line_handed_to_shipping",
    "not_returnable",
    "unknown_line",
    "unknown_return",
    "wrong_currency",
    "payment_conflict",
    "payment_already_refunded",
    "order_cancelled",
    "invalid_change",
    "nothing_to_change",
    "does_not_fit",
]


class _ChangeEvent(EventData):
    topic = topics.ORDERS
    key_field = "order_id"
    order_id: OrderId


class LineChange(Frozen):
    """A line's new quantity (0 cancels it). A sku the order does not have is a new line: give its price."""

    sku: Sku
    qty: int = Field(ge=0, le=1_000_000)
    unit_price: Money | None = None


class OrderChangeRequested(_ChangeEvent):
    """Please change quantities, cancel or add lines, or ship elsewhere. Lines handed to shipping cannot
    change (return them instead); the whole request is refused then."""

    event_type = "oms.order.change_requested"
    lines: tuple[LineChange, ...] = Field(default=(), max_length=500)
    shipping_address: Address | None = None
    reason: str = Field(default="changed on request", min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_change_per_sku(self) -> OrderChangeRequested:
        skus = [line.sku for line in self.lines]
        if len(skus) != len(set(skus)):
            raise ValueError("each sku may appear once; give its new quantity")
        return self


class OrderChanged(_ChangeEvent):
    """The order processor changed the order: its lines now (cancelled lines left out), where it ships,
    and its new total. Refunds or an amount due follow as their own events."""

    event_type = "oms.order.changed"
    lines: tuple[OrderLine, ...]
    cancelled_skus: tuple[Sku, ...] = ()
    shipping_address: Address | None = None
    total: Money
    reason: str


class OrderRequestRefused(_ChangeEvent):
    """The order processor refused a request; the order is as it was. `refused_event_id` and
    `refused_type` name the request (also the envelope's `causationid`); `code` is for machines, `reason`
    for people. Replaces `oms.order.cancel_rejected`."""

    event_type = "oms.order.request_refused"
    refused_event_id: str = Field(
        min_length=36, max_length=36, pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )
    refused_type: str = Field(min_length=1, max_length=100)
    code: RefusalCode
    reason: str = Field(min_length=1, max_length=500)


CHANGE_EVENTS: tuple[type[EventData], ...] = (OrderChangeRequested, OrderChanged, OrderRequestRefused)
