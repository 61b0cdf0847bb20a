"""What channels and ops send (orders, payments, cancellations, returns, stock, deliveries) and the receipts the
API answers with once it published the event."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from events.base import Currency, Money, Quantity, Sku, UtcDatetime
from events.orders import PaymentKind

ORDER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-:]*$"
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$"


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


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
    known_sku_only: bool = Field(
        default=False,
        description="True: a SKU the inventory view does not have is refused (422) instead of opening a new stock "
        "row, which nothing could take back (a mistyped SKU). False, the default: any valid SKU is received.",
    )


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
