"""Orders as the API reads them: a summary for lists, the whole ledger with parcels, returns and timeline for
one order, and the tracking a customer may see."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field, computed_field

from adapters.http.api.schemas.reads import ReadSchema


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
    actor: str | None = Field(
        default=None, description="Who asked, for an ops action: a user name, or `key:<id>` for a bootstrap key."
    )

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
