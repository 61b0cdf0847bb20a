"""After-sales: returns, on `oms.orders`, keyed by order id."""

from __future__ import annotations

from pydantic import Field

from events import topics
from events.base import EventData, OrderId
from events.common import LineQty


class _ReturnEvent(EventData):
    topic = topics.ORDERS
    key_field = "order_id"
    order_id: OrderId
    lines: tuple[LineQty, ...] = Field(min_length=1)


class ReturnRequested(_ReturnEvent):
    event_type = "oms.return.requested"
    reason: str = Field(default="unspecified", max_length=200)


class ReturnReceived(_ReturnEvent):
    """The goods came back. Resellable goods go back on the shelf; a refund follows either way."""

    event_type = "oms.return.received"
    resellable: bool


RETURN_EVENTS: tuple[type[EventData], ...] = (ReturnRequested, ReturnReceived)
