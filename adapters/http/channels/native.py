"""Native JSON: the `data` of `oms.order.placed`, as the contract defines it (version 1 is upcast)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from adapters.http.channels.common import ChannelOrder, FieldError, PayloadInvalid, field_errors
from events import OrderPlaced

CHANNEL = "native"

EXAMPLE: dict[str, Any] = {
    "order_id": "web-100042",
    "channel": "web",
    "external_ref": "100042",
    "customer": {"email": "jon@example.com", "name": "Jon Snow", "language": "en"},
    "lines": [{"sku": "TEE-BLK-M", "qty": 2, "unit_price": "19.90"}],
    "currency": "EUR",
    "payment_status": "paid",
    "shipping_address": {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    "placed_at": "2026-01-31T11:00:00Z",
}


def map_order(payload: Any) -> ChannelOrder:
    """The connector chose the order id itself; it is also the idempotency key."""
    if not isinstance(payload, dict):
        raise PayloadInvalid([FieldError("(body)", "must be a JSON object")])
    if "customer_email" in payload and "customer" not in payload:
        payload = OrderPlaced.upcast(1, payload)
    try:
        order = OrderPlaced.model_validate(payload)
    except ValidationError as exc:
        raise PayloadInvalid(field_errors(exc)) from None
    return ChannelOrder(external_id=order.order_id, order=order)
