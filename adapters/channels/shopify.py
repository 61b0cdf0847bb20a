"""Shopify REST order webhook (`orders/create`) -> OrderPlaced."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from adapters.channels.common import (
    ChannelOrder,
    ExternalId,
    FieldError,
    PayloadInvalid,
    SourceLine,
    SourceModel,
    blank_to_none,
    built,
    full_name,
    language_of,
    merged_lines,
    order_id_for,
    placed,
    validated,
)
from events import Address, Customer
from events.base import Currency, Money, Quantity, Sku, UtcDatetime
from events.common import Email

CHANNEL = "shopify"

Optional = Annotated[str | None, BeforeValidator(blank_to_none)]


class ShopifyLineItem(SourceModel):
    sku: Sku
    quantity: Quantity
    price: Money


class ShopifyCustomer(SourceModel):
    id: int | str | None = None
    email: Annotated[Email | None, BeforeValidator(blank_to_none)] = None
    first_name: Optional = None
    last_name: Optional = None
    phone: Optional = None


class ShopifyAddress(SourceModel):
    first_name: Optional = None
    last_name: Optional = None
    address1: Optional = None
    address2: Optional = None
    city: Optional = None
    zip: Optional = None
    province: Optional = None
    country_code: Optional = None


class ShopifyOrder(SourceModel):
    id: ExternalId
    name: str = Field(min_length=1, max_length=128)
    email: Annotated[Email | None, BeforeValidator(blank_to_none)] = None
    currency: Currency
    financial_status: str
    created_at: UtcDatetime
    customer_locale: Optional = None
    customer: ShopifyCustomer | None = None
    line_items: list[ShopifyLineItem] = Field(min_length=1, max_length=500)
    shipping_address: ShopifyAddress | None = None


EXAMPLE: dict[str, Any] = {
    "id": 820982911946154508,
    "name": "#1001",
    "email": "jon@example.com",
    "currency": "EUR",
    "financial_status": "paid",
    "created_at": "2026-01-31T12:00:00+01:00",
    "customer_locale": "de",
    "customer": {"email": "jon@example.com", "first_name": "Jon", "last_name": "Snow"},
    "line_items": [{"sku": "TEE-BLK-M", "quantity": 2, "price": "19.90"}],
    "shipping_address": {
        "first_name": "Jon",
        "last_name": "Snow",
        "address1": "Hauptstr. 1",
        "city": "Berlin",
        "zip": "10115",
        "country_code": "DE",
    },
}


def map_order(payload: Any) -> ChannelOrder:
    source: ShopifyOrder = validated(ShopifyOrder, payload)
    external_id = str(source.id)
    order = placed(
        order_id=order_id_for(CHANNEL, external_id),
        channel=CHANNEL,
        external_ref=source.name,
        customer=_customer(source),
        lines=merged_lines(
            SourceLine(f"line_items.{i}.sku", item.sku, item.quantity, item.price)
            for i, item in enumerate(source.line_items)
        ),
        currency=source.currency,
        payment_status="paid" if source.financial_status == "paid" else "pending",
        shipping_address=_address(source.shipping_address),
        placed_at=source.created_at,
    )
    return ChannelOrder(external_id=external_id, order=order)


def _customer(source: ShopifyOrder) -> Customer:
    person = source.customer or ShopifyCustomer()
    email = source.email or person.email
    if email is None:
        raise PayloadInvalid([FieldError("email", "is required (neither email nor customer.email is set)")])
    return Customer(
        email=email,
        id=str(person.id) if person.id is not None else None,
        name=full_name(person.first_name, person.last_name),
        phone=person.phone,
        language=language_of(source.customer_locale),
    )


def _address(address: ShopifyAddress | None) -> Address | None:
    if address is None:
        return None
    return built(
        Address,
        "shipping_address",
        name=("first_name", full_name(address.first_name, address.last_name)),
        line1=("address1", address.address1),
        line2=("address2", address.address2),
        city=("city", address.city),
        postal_code=("zip", address.zip),
        region=("province", address.province),
        country=("country_code", address.country_code),
    )
