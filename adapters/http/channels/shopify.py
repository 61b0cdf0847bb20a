"""Shopify REST webhooks: order payloads (`orders/create`, `orders/updated`, `orders/paid`, `orders/cancelled`,
`orders/fulfilled`, `orders/partially_fulfilled`) and refunds (`refunds/create`).

Every order webhook carries the whole order as it is now, so each is read the same way, whatever its topic:
the order (placed if it never was), its lines and address, the shop's payment, a cancellation and the refunds
it lists. The shop takes one payment per order (`shop_payment_id`); a paid order is placed paid under it.
The payloads as read are in `shopify_payloads`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.http.channels.common import (
    CANCEL,
    LINES,
    ChannelFact,
    ChannelOrder,
    ChannelUpdate,
    FieldError,
    PayloadInvalid,
    SourceLine,
    built,
    full_name,
    language_of,
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
from adapters.http.channels.shopify_payloads import ShopifyAddress, ShopifyCustomer, ShopifyOrder, ShopifyRefund
from events import Address, Customer, OrderCancelRequested, OrderChangeRequested, OrderPaid, RefundReported
from events.orders import PaymentKind
from pipeline.rules.money import rounded

CHANNEL = "shopify"
PAID = frozenset({"paid", "partially_refunded", "refunded"})
"""Financial statuses of an order whose payment was captured in full (some of it may have gone back since)."""
KINDS: dict[str, PaymentKind] = {"authorized": "authorized", **dict.fromkeys(PAID, "captured")}

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
REFUND_EXAMPLE: dict[str, Any] = {
    "id": 929361464,
    "order_id": 820982911946154508,
    "created_at": "2026-02-02T09:30:00+01:00",
    "note": "wrong size",
    "transactions": [{"kind": "refund", "status": "success", "amount": "19.90", "currency": "EUR"}],
}


def map_order(payload: Any) -> ChannelOrder:
    """The order as placed (or as it is now, for an order first seen in a later webhook)."""
    return _placement(validated(ShopifyOrder, payload))


def map_update(payload: Any) -> ChannelUpdate:
    """Any order webhook: the order, and what it says now about its lines, payment, cancellation, refunds."""
    source: ShopifyOrder = validated(ShopifyOrder, payload)
    mapped = _placement(source)
    order_id, external_id = mapped.order.order_id, mapped.external_id
    facts: list[ChannelFact] = []
    if source.cancelled_at is None:
        facts.append(_lines(source, order_id))
    kind = KINDS.get(source.financial_status)
    if kind is not None:
        facts.append(_payment(source, mapped, kind))
    if source.cancelled_at is not None:
        reason = f"cancelled in Shopify ({source.cancel_reason})" if source.cancel_reason else "cancelled in Shopify"
        facts.append(ChannelFact(CANCEL, made(OrderCancelRequested, "order", order_id=order_id, reason=reason[:200])))
    for i, refund in enumerate(source.refunds):
        facts.extend(_refund_facts(refund, external_id, source.currency, f"refunds.{i}"))
    return ChannelUpdate(external_id, mapped, tuple(facts), source.updated_at or source.created_at)


def map_refund(payload: Any) -> ChannelUpdate:
    """`refunds/create`: a refund made in the shop, reported against the order's payment."""
    refund: ShopifyRefund = validated(ShopifyRefund, payload)
    if refund.order_id is None:
        raise PayloadInvalid([FieldError("order_id", "is required")])
    external_id = str(refund.order_id)
    return ChannelUpdate(external_id, None, _refund_facts(refund, external_id, None, ""), refund.created_at)


def _placement(source: ShopifyOrder) -> ChannelOrder:
    external_id = str(source.id)
    paid = source.financial_status in PAID
    order = placed(
        order_id=order_id_for(CHANNEL, external_id),
        channel=CHANNEL,
        external_ref=source.name,
        customer=_customer(source),
        lines=merged_lines(_placed_lines(source)),
        currency=source.currency,
        payment_status="paid" if paid else "pending",
        payment_id=shop_payment_id(CHANNEL, external_id) if paid else None,
        shipping_charge=sum((line.price for line in source.shipping_lines), Decimal(0)),
        discount=_discount(source),
        shipping_address=_address(source.shipping_address),
        placed_at=source.created_at,
    )
    return ChannelOrder(external_id=external_id, order=order)


def _discount(source: ShopifyOrder) -> Decimal:
    """`total_discounts`, at most what the lines left are worth: an edit that took lines off keeps the
    order's discount, and a discount cannot make the goods cost less than nothing."""
    worth = sum((line.unit_price * line.qty for line in _placed_lines(source)), Decimal(0))
    return min(source.total_discounts, worth)


def _placed_lines(source: ShopifyOrder) -> list[SourceLine]:
    """The lines left (an order first seen after an edit is placed as it is now); an order with nothing left
    (every line removed, cancelled) as it was placed, so its history reads placed, then changed or cancelled."""
    items = list(enumerate(source.line_items))
    left = [(i, item) for i, item in items if item.quantity_now() > 0]
    if left:
        return [SourceLine(f"line_items.{i}.sku", item.sku, item.quantity_now(), item.price) for i, item in left]
    return [SourceLine(f"line_items.{i}.sku", item.sku, item.quantity, item.price) for i, item in items]


def _lines(source: ShopifyOrder, order_id: str) -> ChannelFact:
    lines = line_changes((item.sku, item.quantity_now(), item.price) for item in source.line_items)
    change = made(
        OrderChangeRequested,
        "line_items",
        order_id=order_id,
        lines=lines,
        shipping_address=_address(source.shipping_address),
        reason="changed in Shopify",
    )
    return ChannelFact(LINES, change)


def _payment(source: ShopifyOrder, mapped: ChannelOrder, kind: PaymentKind) -> ChannelFact:
    """The shop's payment in all: what the order costs (the shop says it took it, or authorized it)."""
    payment_id = shop_payment_id(CHANNEL, mapped.external_id)
    paid = made(
        OrderPaid,
        "order",
        order_id=mapped.order.order_id,
        amount=rounded(mapped.order.total(), source.currency),
        method=(source.payment_gateway_names[0][:40] or None) if source.payment_gateway_names else None,
        payment_id=payment_id,
        kind=kind,
        currency=source.currency,
    )
    return ChannelFact(payment_aspect(payment_id), paid)


def _refund_facts(
    refund: ShopifyRefund, external_id: str, currency: str | None, prefix: str
) -> tuple[ChannelFact, ...]:
    """The refund's money back, if any (a refund that only restocks gives none)."""
    given_back = [t for t in refund.transactions if t.is_refund()]
    amount = sum((t.amount for t in given_back), Decimal(0))
    if amount == 0:
        return ()
    currency = next((t.currency for t in given_back if t.currency), currency)
    if currency is None:
        field = ".".join(part for part in (prefix, "transactions.0.currency") if part)
        raise PayloadInvalid([FieldError(field, "is required")])
    report = made(
        RefundReported,
        prefix or "refund",
        order_id=order_id_for(CHANNEL, external_id),
        payment_id=shop_payment_id(CHANNEL, external_id),
        refund_id=str(refund.id),
        amount=amount,
        currency=currency,
        reason=(refund.note or "refunded in Shopify")[:200],
    )
    return (ChannelFact(refund_aspect(str(refund.id)), report),)


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
