"""Events of an order's life, on `oms.orders`, keyed by order id.

Money events (payments recorded, refunds, capture and void requests) are in `events.payments`; requests
to change an order and the processor's answers to them in `events.changes`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails

from events import topics
from events.base import Currency, EventData, Money, OrderId, Sku, UtcDatetime
from events.common import Address, Customer, Frozen, LineQty, OrderLine, is_deliverable

Fulfilment = Literal["ship", "handed_over"]
"""`ship`: a carrier takes the goods to the customer. `handed_over`: sold at a till, the customer takes
the goods with them; no carrier, the order is completed once its stock is committed."""
CaptureMode = Literal["at_order", "at_shipment"]
"""When the money is taken: `at_order` (the order waits until captures cover its total) or `at_shipment`
(an authorization covering the total confirms it; each parcel's share is captured when it leaves)."""
PaymentKind = Literal["authorized", "captured"]
POS_CHANNEL = "pos"


class _OrderEvent(EventData):
    topic = topics.ORDERS
    key_field = "order_id"
    order_id: OrderId


# --- inbound: published by channels and ops -------------------------------------------------


class OrderPlaced(_OrderEvent):
    """A channel took an order.

    v3 adds `fulfilment` (defaults to `handed_over` for channel `pos`, else `ship`), `capture`,
    `payment_id`, `shipping_charge` and `discount`, and lets the customer of a till sale be anonymous
    (no email). Reading v1/v2: an email at a reserved `.invalid` domain (the old walk-in placeholder)
    becomes no email. v2 nested the customer; v1 had `customer_email`.
    """

    event_type = "oms.order.placed"
    schema_version = 3

    channel: str = Field(min_length=1, max_length=40)
    external_ref: str | None = Field(default=None, max_length=128)
    customer: Customer
    lines: tuple[OrderLine, ...] = Field(min_length=1, max_length=500)
    currency: Currency
    payment_status: Literal["paid", "pending"]
    shipping_address: Address | None = None
    shipping_policy: Literal["complete", "split"] = "complete"
    placed_at: UtcDatetime
    fulfilment: Fulfilment = "ship"
    capture: CaptureMode = "at_order"
    payment_id: str | None = Field(default=None, min_length=1, max_length=128)
    """The payment of an order placed paid; a later `oms.order.paid` naming it is the same money.
    Absent: `<order_id>:placement`."""
    shipping_charge: Money = Decimal(0)
    discount: Money = Decimal(0)
    """Off the lines' list prices for the whole order; shared among the lines pro rata of their value."""

    @model_validator(mode="before")
    @classmethod
    def _till_sales_are_handed_over(cls, data: Any) -> Any:
        if isinstance(data, dict) and "fulfilment" not in data and data.get("channel") == POS_CHANNEL:
            return {**data, "fulfilment": "handed_over"}
        return data

    @model_validator(mode="after")
    def _one_line_per_sku(self) -> OrderPlaced:
        skus = [line.sku for line in self.lines]
        if len(skus) != len(set(skus)):
            raise ValueError("each sku may appear on one line only; merge the quantities")
        if self.discount > self.goods_total():
            raise ValueError(f"discount {self.discount} is more than the lines are worth ({self.goods_total()})")
        if self.fulfilment == "ship" and self.customer.email is None:
            # Reported at the field, like any other missing field.
            missing = InitErrorDetails(type="missing", loc=("customer", "email"), input=None)
            raise ValidationError.from_exception_data(type(self).__name__, [missing])
        return self

    @classmethod
    def upcast(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        if version == 1:
            email = data.pop("customer_email", None)
            data.setdefault("customer", {"email": email})
        customer = data.get("customer")
        if isinstance(customer, dict) and customer.get("email") and not is_deliverable(customer["email"]):
            data["customer"] = {key: value for key, value in customer.items() if key != "email"}
        return data

    def goods_total(self) -> Decimal:
        return sum((line.unit_price * line.qty for line in self.lines), Decimal(0))

    def total(self) -> Decimal:
        """What the customer pays: the lines, less the discount, plus shipping."""
        return self.goods_total() - self.discount + self.shipping_charge


class OrderPaid(_OrderEvent):
    """Money for an order, reported by a payment provider or a channel.

    `amount` is what payment `payment_id` has authorized (or captured) in all so far, so a report sent
    twice is the same report. v2 adds `payment_id` (absent: the event's id, every report its own
    payment), `kind` and `currency` (absent: the order's). A v1 event reads as a capture.
    """

    event_type = "oms.order.paid"
    schema_version = 2

    amount: Money
    method: str | None = Field(default=None, max_length=40)
    payment_id: str | None = Field(default=None, min_length=1, max_length=128)
    kind: PaymentKind = "captured"
    currency: Currency | None = None

    @classmethod
    def upcast(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        if version == 1:
            return {**data, "kind": "captured"}
        return data


class OrderCancelRequested(_OrderEvent):
    event_type = "oms.order.cancel_requested"
    reason: str = Field(min_length=1, max_length=200)


# --- emitted by the order processor --------------------------------------------------------


class OrderAwaitingPayment(_OrderEvent):
    """The order waits for money: `amount_due` by `payment_due_at` (v2; v1 meant the whole total, and
    always had a deadline). No deadline: the order waits (part of it was handed to shipping already)."""

    event_type = "oms.order.awaiting_payment"
    schema_version = 2
    payment_due_at: UtcDatetime | None = None
    amount_due: Money | None = None


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


class OrderBackorderCleared(_OrderEvent):
    """Lines that waited for stock got it (the order ships when the rest of it allows: payment, other lines)."""

    event_type = "oms.order.backorder_cleared"
    skus: tuple[Sku, ...] = Field(min_length=1)


class OrderConfirmed(_OrderEvent):
    """Every line (or, for split shipment, the lines in `lines`) is reserved and the order is paid."""

    event_type = "oms.order.confirmed"
    skus: tuple[Sku, ...] = ()


class OrderCancelled(_OrderEvent):
    event_type = "oms.order.cancelled"
    reason: str


class OrderCancelRejected(_OrderEvent):
    """Written until the refusals became one type: read it as an `oms.order.request_refused` of an
    `oms.order.cancel_requested` (code `too_late_to_cancel`). The order processor no longer writes it."""

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
    """A parcel was delivered. v2 names it (`shipment_id`, `tracking_number`) and says whether it was the
    last one (`complete`); v1 events were read as the whole order delivered."""

    event_type = "oms.order.delivered"
    schema_version = 2
    delivered_at: UtcDatetime
    shipment_id: str | None = None
    tracking_number: str | None = None
    complete: bool = True


class OrderHandedOver(_OrderEvent):
    """A till sale: the customer took the goods. The order is complete; no carrier is involved."""

    event_type = "oms.order.handed_over"
    lines: tuple[LineQty, ...] = Field(min_length=1)


ORDER_EVENTS: tuple[type[EventData], ...] = (
    OrderPlaced,
    OrderPaid,
    OrderCancelRequested,
    OrderAwaitingPayment,
    OrderPaymentExpired,
    OrderBackordered,
    OrderBackorderCleared,
    OrderConfirmed,
    OrderCancelled,
    OrderCancelRejected,
    OrderShipped,
    OrderDelivered,
    OrderHandedOver,
)
