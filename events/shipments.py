"""Shipment events, on `oms.shipments`, keyed by order id."""

from __future__ import annotations

from pydantic import Field

from events import topics
from events.base import EventData, OrderId, UtcDatetime
from events.common import Address, LineQty


class _ShipmentEvent(EventData):
    topic = topics.SHIPMENTS
    key_field = "order_id"
    order_id: OrderId


class ShipmentRequested(_ShipmentEvent):
    event_type = "oms.shipment.requested"
    shipment_id: str = Field(min_length=1, max_length=64)
    lines: tuple[LineQty, ...] = Field(min_length=1)
    shipping_address: Address | None = None


class ShipmentDispatched(_ShipmentEvent):
    event_type = "oms.shipment.dispatched"
    shipment_id: str
    carrier: str
    tracking_number: str
    tracking_url: str
    lines: tuple[LineQty, ...] = Field(min_length=1)


class ShipmentDelivered(_ShipmentEvent):
    """The carrier reports delivery (inbound, from a carrier webhook)."""

    event_type = "oms.shipment.delivered"
    tracking_number: str = Field(min_length=1, max_length=64)
    delivered_at: UtcDatetime


SHIPMENT_EVENTS: tuple[type[EventData], ...] = (ShipmentRequested, ShipmentDispatched, ShipmentDelivered)
