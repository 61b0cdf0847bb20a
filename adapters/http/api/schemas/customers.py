"""Customers and sales as the API reads them: one row per customer, and analytics per channel and sku."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from adapters.http.api.schemas.reads import ReadSchema


class CustomerSummary(ReadSchema):
    customer_key: str = Field(description="The email, or `walk-in:<order id>` for a till sale without one.")
    email: str | None = None
    anonymous: bool = False
    name: str | None = None
    orders_count: int = 0
    cancelled_count: int = 0
    total_spend: Decimal | None = Field(default=None, description="Net money: captured less refunded.")
    currency: str | None = None
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    channels: list[str] = []


class Amount(ReadSchema):
    currency: str
    amount: Decimal


class ChannelSales(ReadSchema):
    channel: str
    orders: int
    units: int
    revenue: list[Amount] = []


class SkuSales(ReadSchema):
    sku: str
    units: int
    revenue: list[Amount] = []


class Analytics(ReadSchema):
    since: datetime | None = None
    until: datetime | None = None
    orders: int = 0
    units: int = 0
    cancelled_units: int = 0
    revenue: list[Amount] = []
    by_channel: list[ChannelSales] = []
    top_skus: list[SkuSales] = []
