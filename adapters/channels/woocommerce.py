"""WooCommerce order webhook (`order.created`) -> OrderPlaced."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from adapters.channels.common import (
    ChannelOrder,
    ExternalId,
    SourceLine,
    SourceModel,
    blank_to_none,
    built,
    full_name,
    merged_lines,
    order_id_for,
    placed,
    validated,
)
from events import Address, Customer
from events.base import Currency, Money, Quantity, Sku
from events.common import Email

CHANNEL = "woocommerce"
PAID_STATUSES = frozenset({"processing", "completed"})

Optional = Annotated[str | None, BeforeValidator(blank_to_none)]


def _gmt(value: datetime) -> datetime:
    """WooCommerce writes `*_gmt` times without an offset; they are UTC by name."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


GmtDatetime = Annotated[datetime, AfterValidator(_gmt)]


class WooLineItem(SourceModel):
    sku: Sku
    quantity: Quantity
    price: Money


class WooBilling(SourceModel):
    email: Email
    first_name: Optional = None
    last_name: Optional = None
    phone: Optional = None


class WooShipping(SourceModel):
    first_name: Optional = None
    last_name: Optional = None
    address_1: Optional = None
    address_2: Optional = None
    city: Optional = None
    postcode: Optional = None
    state: Optional = None
    country: Optional = None

    def is_empty(self) -> bool:
        return not (self.address_1 or self.city or self.country)


class WooOrder(SourceModel):
    id: ExternalId
    number: str | None = None
    status: str
    currency: Currency
    date_created_gmt: GmtDatetime
    date_paid_gmt: Annotated[GmtDatetime | None, BeforeValidator(blank_to_none)] = None
    set_paid: bool = False
    customer_id: int | None = None
    billing: WooBilling
    shipping: WooShipping | None = None
    line_items: list[WooLineItem] = Field(min_length=1, max_length=500)

    def is_paid(self) -> bool:
        return self.set_paid or self.date_paid_gmt is not None or self.status in PAID_STATUSES


EXAMPLE: dict[str, Any] = {
    "id": 727,
    "number": "727",
    "status": "processing",
    "currency": "EUR",
    "date_created_gmt": "2026-01-31T11:00:00",
    "date_paid_gmt": "2026-01-31T11:00:05",
    "billing": {"email": "jon@example.com", "first_name": "Jon", "last_name": "Snow"},
    "shipping": {"address_1": "Hauptstr. 1", "city": "Berlin", "postcode": "10115", "country": "DE"},
    "line_items": [{"sku": "TEE-BLK-M", "quantity": 2, "price": 19.9}],
}


def map_order(payload: Any) -> ChannelOrder:
    source: WooOrder = validated(WooOrder, payload)
    external_id = str(source.id)
    order = placed(
        order_id=order_id_for(CHANNEL, external_id),
        channel=CHANNEL,
        external_ref=source.number or external_id,
        customer=Customer(
            email=source.billing.email,
            id=str(source.customer_id) if source.customer_id else None,
            name=full_name(source.billing.first_name, source.billing.last_name),
            phone=source.billing.phone,
        ),
        lines=merged_lines(
            SourceLine(f"line_items.{i}.sku", item.sku, item.quantity, item.price)
            for i, item in enumerate(source.line_items)
        ),
        currency=source.currency,
        payment_status="paid" if source.is_paid() else "pending",
        shipping_address=_address(source.shipping),
        placed_at=source.date_created_gmt,
    )
    return ChannelOrder(external_id=external_id, order=order)


def _address(shipping: WooShipping | None) -> Address | None:
    """Virtual goods come with an all-blank shipping block: that is no address, not a wrong one."""
    if shipping is None or shipping.is_empty():
        return None
    return built(
        Address,
        "shipping",
        name=("first_name", full_name(shipping.first_name, shipping.last_name)),
        line1=("address_1", shipping.address_1),
        line2=("address_2", shipping.address_2),
        city=("city", shipping.city),
        postal_code=("postcode", shipping.postcode),
        region=("state", shipping.state),
        country=("country", shipping.country),
    )
