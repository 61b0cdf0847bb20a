"""Request and response bodies of the HTTP API. They are not the events: the routes translate."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field

from events.base import Currency, Money, Quantity, Sku, UtcDatetime
from events.orders import PaymentKind

T = TypeVar("T")

ORDER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-:]*$"
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$"


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


# --- errors ----------------------------------------------------------------------------------


class FieldProblem(BaseModel):
    field: str
    message: str
    row: int | None = Field(default=None, description="CSV uploads: the row (the header is row 1).")
    detail: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldProblem] | None = None


# --- intake and actions ----------------------------------------------------------------------


class IntakeAccepted(BaseModel):
    order_id: str
    duplicate: bool = Field(
        description="True when nothing new is published: this channel order, or this webhook about it, was "
        "accepted before, or it says nothing that was not published already."
    )


class CsvOrderAccepted(IntakeAccepted):
    order_ref: str


class ActionAccepted(BaseModel):
    event_id: str
    type: str
    subject: str


class PaymentCreate(BaseModel):
    model_config = _examples(
        {"amount": "39.80", "method": "card", "payment_id": "pi_3NfZ2a", "kind": "captured", "currency": "EUR"}
    )
    amount: Money = Field(description="What this payment has authorized or captured in all so far.")
    method: str | None = Field(default=None, max_length=40)
    payment_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The provider's id of the payment: its reports are one payment, a re-sent one the same event.",
    )
    kind: PaymentKind = "captured"
    currency: Currency | None = Field(default=None, description="Absent: the order's currency.")


class CancelCreate(BaseModel):
    model_config = _examples({"reason": "customer called to cancel"})
    reason: str = Field(min_length=1, max_length=200)


class ReturnLine(BaseModel):
    sku: Sku
    qty: Quantity


class ReturnCreate(BaseModel):
    model_config = _examples({"lines": [{"sku": "TEE-BLK-M", "qty": 1}], "reason": "wrong size"})
    lines: list[ReturnLine] = Field(min_length=1)
    reason: str = Field(default="unspecified", max_length=200)


class ReturnReceiptCreate(BaseModel):
    model_config = _examples({"lines": [{"sku": "TEE-BLK-M", "qty": 1}], "resellable": True})
    lines: list[ReturnLine] = Field(min_length=1)
    resellable: bool


class StockReceiptCreate(BaseModel):
    model_config = _examples({"qty": 50, "warehouse": "BER", "purchase_order": "PO-2026-0042"})
    qty: Quantity
    warehouse: str | None = Field(default=None, max_length=64)
    purchase_order: str | None = Field(default=None, max_length=64)


class IncomingStockCreate(BaseModel):
    model_config = _examples({"qty": 100, "eta": "2026-02-14T09:00:00Z", "purchase_order": "PO-2026-0043"})
    qty: Quantity
    eta: UtcDatetime
    purchase_order: str = Field(min_length=1, max_length=64)


class StockAdjustmentCreate(BaseModel):
    model_config = _examples({"delta": -2, "reason": "damaged in storage"})
    delta: int = Field(ge=-1_000_000, le=1_000_000)
    reason: str = Field(min_length=1, max_length=200)


class ReorderPolicyUpdate(BaseModel):
    model_config = _examples({"reorder_point": 10, "reorder_qty": 50})
    reorder_point: int = Field(ge=0)
    reorder_qty: int = Field(ge=0)


class DeliveryReport(BaseModel):
    model_config = _examples(
        {"order_id": "SHOP-EA2F835A5C0D", "tracking_number": "SIM123456789", "delivered_at": "2026-02-02T10:30:00Z"}
    )
    order_id: str = Field(min_length=1, max_length=64, pattern=ORDER_ID_PATTERN)
    tracking_number: str = Field(min_length=1, max_length=64)
    delivered_at: UtcDatetime


# --- reads -----------------------------------------------------------------------------------


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class Page(ReadSchema, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class OrderLinePublic(ReadSchema):
    sku: str
    qty: int = Field(description="Units on the order now (0: the line was cancelled).")
    unit_price: Decimal | None = None
    returned: int = Field(default=0, description="Units that came back.")
    backordered: bool = False


class OrderSummary(ReadSchema):
    order_id: str
    status: str | None = None
    channel: str | None = None
    external_ref: str | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    total_amount: Decimal | None = Field(default=None, description="What the order costs now (0 once cancelled).")
    currency: str | None = None
    payment_status: str | None = None
    balance_due: Decimal | None = Field(default=None, description="What the customer still has to pay.")
    placed_at: datetime | None = None
    updated_at: datetime | None = None


class TimelineEntry(ReadSchema):
    event_id: str
    type: str
    time: datetime
    summary: str
    refusal_code: str | None = Field(
        default=None,
        description="Set on a request the order processor refused (its code), or on a record it dead-lettered (the "
        "dead letter's kind, e.g. wrong_key).",
    )
    refusal_reason: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def refused(self) -> bool:
        """True for a request the order processor refused or a record it dead-lettered: it changed nothing."""
        return self.refusal_code is not None


class PaymentPublic(ReadSchema):
    """One payment of the order's ledger. `amount` is what its last counted report said."""

    payment_id: str
    kind: str
    amount: Decimal
    currency: str | None = None
    authorized: Decimal
    captured: Decimal
    refunded: Decimal
    voided: bool = Field(default=False, description="What it authorized and did not capture was released.")


class ParcelLine(ReadSchema):
    sku: str
    qty: int


class ParcelPublic(ReadSchema):
    shipment_id: str
    status: str = Field(description="requested, dispatched or delivered.")
    lines: list[ParcelLine] = []
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    requested_at: datetime | None = None
    dispatched_at: datetime | None = None
    delivered_at: datetime | None = None


class ReturnPublic(ReadSchema):
    rma: str
    reason: str
    lines: dict[str, int] = Field(description="Units authorized to come back, per sku.")
    received: dict[str, int] = Field(default={}, description="Units that came back, per sku.")
    authorized_at: datetime | None = None


class OrderDetail(OrderSummary):
    """The order as the processor decided it: its ledger, payments, parcels, returns and timeline."""

    lines: list[OrderLinePublic] = []
    fulfilment: str | None = None
    capture: str | None = Field(default=None, description="at_order or at_shipment: when the money is taken.")
    shipping_charge: Decimal | None = None
    authorized_amount: Decimal | None = None
    captured_amount: Decimal | None = None
    refunded_amount: Decimal | None = None
    payments: list[PaymentPublic] = []
    parcels: list[ParcelPublic] = []
    returns: list[ReturnPublic] = []
    payment_due_at: datetime | None = None
    paid_at: datetime | None = None
    confirmed_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None
    carrier: str | None = Field(default=None, description="Of the parcel that left last; see `parcels`.")
    tracking_number: str | None = None
    tracking_url: str | None = None
    eta: datetime | None = None
    timeline: list[TimelineEntry] = []


class InventoryItem(ReadSchema):
    sku: str
    on_hand: int
    reserved: int
    available: int
    incoming_qty: int = 0
    next_eta: datetime | None = None
    backordered_qty: int = 0
    reorder_point: int | None = None
    reorder_qty: int | None = None
    is_low: bool = False
    suggested_reorder_qty: int = 0
    updated_at: datetime | None = None


class SkuDetail(InventoryItem):
    incoming: list[dict[str, Any]] = Field(default=[], description="Scheduled purchase orders: qty, eta, po.")
    backorders: list[dict[str, Any]] = Field(default=[], description="Waiting order lines, oldest first.")


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


class TrackingParcel(ReadSchema):
    """One parcel, as its customer may see it."""

    status: str = Field(description="requested, dispatched or delivered.")
    lines: list[ParcelLine] = []
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    dispatched_at: datetime | None = None
    delivered_at: datetime | None = None


class TrackingPublic(ReadSchema):
    """What a customer may see about their own order: nothing personal. Each parcel has its own tracking."""

    order_id: str
    external_ref: str | None = None
    status: str
    eta: datetime | None = None
    parcels: list[TrackingParcel] = []
    carrier: str | None = Field(default=None, description="Of the parcel that left last.")
    tracking_number: str | None = None
    tracking_url: str | None = None
    updated_at: datetime | None = None
