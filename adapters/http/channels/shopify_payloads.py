"""The Shopify REST payloads the intake reads: an order as each order webhook carries it, and a refund
(`refunds/create`, or one an order lists). Only the fields the mapping uses; the rest is ignored."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, Field

from adapters.http.channels.common import ExternalId, SourceModel, blank_to_none
from events.base import Currency, Money, Quantity, Sku, UtcDatetime
from events.common import Email

Optional = Annotated[str | None, BeforeValidator(blank_to_none)]
OptionalTime = Annotated[UtcDatetime | None, BeforeValidator(blank_to_none)]


class ShopifyLineItem(SourceModel):
    sku: Sku
    quantity: Quantity
    current_quantity: int | None = Field(default=None, ge=0, le=1_000_000)
    """What is left of the line after edits and removals (newer API versions); 0: removed."""
    price: Money

    def quantity_now(self) -> int:
        return self.quantity if self.current_quantity is None else self.current_quantity


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


class ShopifyShippingLine(SourceModel):
    price: Money


class ShopifyTransaction(SourceModel):
    kind: str
    status: Optional = None
    amount: Money
    currency: Annotated[Currency | None, BeforeValidator(blank_to_none)] = None

    def is_refund(self) -> bool:
        return self.kind == "refund" and self.status in (None, "success")


class ShopifyRefund(SourceModel):
    """A refund (the `refunds/create` payload, or one of an order's `refunds`)."""

    id: ExternalId
    order_id: ExternalId | None = None
    """Required of `refunds/create`; a refund an order lists is that order's."""
    created_at: OptionalTime = None
    note: Optional = None
    transactions: list[ShopifyTransaction] = Field(default=[], max_length=100)


class ShopifyOrder(SourceModel):
    id: ExternalId
    name: str = Field(min_length=1, max_length=128)
    email: Annotated[Email | None, BeforeValidator(blank_to_none)] = None
    currency: Currency
    financial_status: str
    created_at: UtcDatetime
    updated_at: OptionalTime = None
    cancelled_at: OptionalTime = None
    cancel_reason: Optional = None
    customer_locale: Optional = None
    customer: ShopifyCustomer | None = None
    line_items: list[ShopifyLineItem] = Field(min_length=1, max_length=500)
    shipping_address: ShopifyAddress | None = None
    shipping_lines: list[ShopifyShippingLine] = Field(default=[], max_length=50)
    total_discounts: Money = Decimal(0)
    payment_gateway_names: list[str] = Field(default=[], max_length=20)
    refunds: list[ShopifyRefund] = Field(default=[], max_length=100)
