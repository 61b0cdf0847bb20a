"""WooCommerce order webhooks (`order.created`, `order.updated`): the order, and what it says now.

Each carries the whole order as it is now, so both are read the same way: the order (placed if it never
was), its lines and address, the shop's payment (`processing` and `completed` mean paid), a cancellation
(`cancelled`) and the refunds it lists (`refunded`, or partial refunds of an order still processing). The
shop takes one payment per order (`shop_payment_id`); a paid order is placed paid under it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from adapters.http.channels.common import (
    CANCEL,
    LINES,
    ChannelFact,
    ChannelOrder,
    ChannelUpdate,
    ExternalId,
    SourceLine,
    SourceModel,
    blank_to_none,
    built,
    full_name,
    line_changes,
    made,
    merged_lines,
    order_id_for,
    payment_aspect,
    placed,
    refund_aspect,
    shop_payment_id,
    validated,
)
from events import Address, Customer, OrderCancelRequested, OrderChangeRequested, OrderPaid, RefundReported
from events.base import Currency, Money, Quantity, Sku
from events.common import Email
from pipeline.rules.money import rounded

CHANNEL = "woocommerce"
PAID_STATUSES = frozenset({"processing", "completed", "refunded"})
"""Statuses of an order the shop took the money for (a refunded one gave it back since, in its refunds)."""

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


class WooRefund(SourceModel):
    """A refund as an order lists it; its `total` is written negative (money out of the shop)."""

    id: ExternalId
    reason: Optional = None
    total: Decimal = Field(ge=-(10**10), le=10**10, decimal_places=4)


class WooOrder(SourceModel):
    id: ExternalId
    number: str | None = None
    status: str
    currency: Currency
    date_created_gmt: GmtDatetime
    date_modified_gmt: Annotated[GmtDatetime | None, BeforeValidator(blank_to_none)] = None
    date_paid_gmt: Annotated[GmtDatetime | None, BeforeValidator(blank_to_none)] = None
    set_paid: bool = False
    customer_id: int | None = None
    billing: WooBilling
    shipping: WooShipping | None = None
    shipping_total: Money = Decimal(0)
    payment_method_title: Optional = None
    line_items: list[WooLineItem] = Field(min_length=1, max_length=500)
    refunds: list[WooRefund] = Field(default=[], max_length=100)

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
    return _placement(validated(WooOrder, payload))


def map_update(payload: Any) -> ChannelUpdate:
    """`order.created` or `order.updated`: the order, and what it says now about its lines, payment,
    cancellation and refunds."""
    source: WooOrder = validated(WooOrder, payload)
    mapped = _placement(source)
    order_id, external_id = mapped.order.order_id, mapped.external_id
    facts: list[ChannelFact] = []
    if source.status != "cancelled":
        facts.append(_lines(source, order_id))
    if source.is_paid():
        facts.append(_payment(source, mapped))
    if source.status == "cancelled":
        cancel = made(OrderCancelRequested, "order", order_id=order_id, reason="cancelled in WooCommerce")
        facts.append(ChannelFact(CANCEL, cancel))
    payment_id = shop_payment_id(CHANNEL, external_id)
    for i, refund in enumerate(source.refunds):
        if refund.total == 0:
            continue
        report = made(
            RefundReported,
            f"refunds.{i}",
            order_id=order_id,
            payment_id=payment_id,
            refund_id=str(refund.id),
            amount=abs(refund.total),
            currency=source.currency,
            reason=(refund.reason or "refunded in WooCommerce")[:200],
        )
        facts.append(ChannelFact(refund_aspect(str(refund.id)), report))
    return ChannelUpdate(external_id, mapped, tuple(facts), source.date_modified_gmt or source.date_created_gmt)


def _placement(source: WooOrder) -> ChannelOrder:
    external_id = str(source.id)
    paid = source.is_paid()
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
        payment_status="paid" if paid else "pending",
        payment_id=shop_payment_id(CHANNEL, external_id) if paid else None,
        shipping_charge=source.shipping_total,
        shipping_address=_address(source.shipping),
        placed_at=source.date_created_gmt,
    )
    return ChannelOrder(external_id=external_id, order=order)


def _lines(source: WooOrder, order_id: str) -> ChannelFact:
    """Every sku the order has now. WooCommerce drops a removed line from the list: the intake knows the
    skus it had and takes a missing one as removed."""
    lines = line_changes((item.sku, item.quantity, item.price) for item in source.line_items)
    change = made(
        OrderChangeRequested,
        "line_items",
        order_id=order_id,
        lines=lines,
        shipping_address=_address(source.shipping),
        reason="changed in WooCommerce",
    )
    return ChannelFact(LINES, change)


def _payment(source: WooOrder, mapped: ChannelOrder) -> ChannelFact:
    """The shop's payment in all: what the order costs (the shop says it was paid)."""
    payment_id = shop_payment_id(CHANNEL, mapped.external_id)
    paid = made(
        OrderPaid,
        "order",
        order_id=mapped.order.order_id,
        amount=rounded(mapped.order.total(), source.currency),
        method=source.payment_method_title[:40] if source.payment_method_title else None,
        payment_id=payment_id,
        currency=source.currency,
    )
    return ChannelFact(payment_aspect(payment_id), paid)


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
