"""One place that maps a CloudEvent `type` to its model."""

from __future__ import annotations

from events.base import EventData
from events.changes import CHANGE_EVENTS
from events.deadletter import DEADLETTER_EVENTS
from events.notifications import NOTIFICATION_EVENTS
from events.orders import ORDER_EVENTS
from events.payments import PAYMENT_EVENTS
from events.returns import RETURN_EVENTS
from events.shipments import SHIPMENT_EVENTS
from events.stock import STOCK_EVENTS

ALL_EVENT_MODELS: tuple[type[EventData], ...] = (
    *ORDER_EVENTS,
    *PAYMENT_EVENTS,
    *CHANGE_EVENTS,
    *RETURN_EVENTS,
    *STOCK_EVENTS,
    *SHIPMENT_EVENTS,
    *NOTIFICATION_EVENTS,
    *DEADLETTER_EVENTS,
)

EVENT_TYPES: dict[str, type[EventData]] = {model.event_type: model for model in ALL_EVENT_MODELS}

if len(EVENT_TYPES) != len(ALL_EVENT_MODELS):  # pragma: no cover - guards the catalogue itself
    raise RuntimeError("two event models share one type string")


def model_for(event_type: str) -> type[EventData] | None:
    return EVENT_TYPES.get(event_type)


def types_on(topic: str) -> list[type[EventData]]:
    return [model for model in ALL_EVENT_MODELS if model.topic == topic]
