"""Events of an order's life, on `oms.orders`, keyed by order id."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from events import topics
from events.base import Currency, EventData, Money, OrderId, Sku, UtcDatetime
from events.common import Address, Customer, Frozen, OrderLine


class _OrderEvent(EventData):
    topic = topics.ORDERS
    key_field = "order_id"
    order_id: OrderId


# --- inbound: published by channels and ops -------------------------------------------------


class OrderPlaced(_OrderEvent):
    """A channel took an order. Version 2 nests the customer; version 1 had `customer_email`."""

    event_type = "oms.order.placed"
    schema_version = 2

    channel: str = Field(min_length=1, max_length=40)
    external_ref: str | None = Field(default=None, max_length=128)
    customer: Customer
    lines: tuple[OrderLine, ...] = Field(min_length=1, max_length=500)
    currency: Currency
    payment_status: Literal["paid", "pending"]
    shipping_address: Address | None = None
    shipping_policy: Literal["complete", "split"] = "complete"
    placed_at: UtcDatetime

    @model_validator(mode="after")
    def _one_line_per_sku(self) -> OrderPlaced:
        skus = [line.sku for line in self.lines]
        if len(skus) != len(set(skus)):
            raise ValueError("each sku may appear on one line only; merge the quantities")
        return self

    @classmethod
    def upcast(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        if version == 1:
            data = dict(data)
            email = data.pop("customer_email", None)
            data.setdefault("customer", {"email": email})
        return data

    def total(self) -> Decimal:
        return sum((line.unit_price * line.qty for line in self.lines), Decimal(0))


class OrderPaid(_OrderEvent):
    event_type = "oms.order.paid"
    amount: Money
    method: str | None = Field(default=None, max_length=40)


class OrderCancelRequested(_OrderEvent):
    event_type = "oms.order.cancel_requested"
    reason: str = Field(min_length=1, max_length=200)


# --- emitted by the order processor --------------------------------------------------------


class OrderAwaitingPayment(_OrderEvent):
    event_type = "oms.order.awaiting_payment"
    payment_due_at: UtcDatetime


class OrderPaymentExpired(_OrderEvent):
    """The payment deadline passed; the order processor decides whether that cancels the order."""

    event_type = "oms.order.payment_expired"
    payment_due_at: UtcDatetime


class BackorderedLine(Frozen):
    sku: Sku
    qty: int = Field(gt=0, le=2**63 - 1)
    eta: UtcDatetime | None = None


class OrderBackordered(_OrderEvent):
    """Some lines wait for stock. `eta` is when the whole order can ship, or None if unknown."""

    event_type = "oms.order.backordered"
    eta: UtcDatetime | None = None
    lines: tuple[BackorderedLine, ...]


class OrderConfirmed(_OrderEvent):
    """Every line (or, for split shipment, the lines in `lines`) is reserved and the order is paid."""

    event_type = "oms.order.confirmed"
    skus: tuple[Sku, ...] = ()


class OrderCancelled(_OrderEvent):
    event_type = "oms.order.cancelled"
    reason: str


class OrderCancelRejected(_OrderEvent):
    event_type = "oms.order.cancel_rejected"
    reason: str


class OrderShipped(_OrderEvent):
    event_type = "oms.order.shipped"
    shipment_id: str
    carrier: str
    tracking_number: str
    tracking_url: str
    complete: bool = True


class OrderDelivered(_OrderEvent):
    event_type = "oms.order.delivered"
    delivered_at: UtcDatetime


class RefundIssued(_OrderEvent):
    event_type = "oms.refund.issued"
    amount: Money
    currency: Currency
    reason: str


ORDER_EVENTS: tuple[type[EventData], ...] = (
    OrderPlaced,
    OrderPaid,
    OrderCancelRequested,
    OrderAwaitingPayment,
    OrderPaymentExpired,
    OrderBackordered,
    OrderConfirmed,
    OrderCancelled,
    OrderCancelRejected,
    OrderShipped,
    OrderDelivered,
    RefundIssued,
)
