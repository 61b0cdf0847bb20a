"""The order processor's money decisions, on `oms.orders`, keyed by order id.

Per order it keeps a ledger: what each payment authorized, captured and got back. A payment adapter
executes `oms.refund.issued`, `oms.payment.capture_requested` and `oms.payment.void_requested` against the
payment they name and reports captures back as `oms.order.paid`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from events import topics
from events.base import Currency, EventData, Money, OrderId, UtcDatetime
from events.common import LineQty
from events.orders import PaymentKind

PaymentId = str
RefundCause = Literal[
    "return",
    "cancellation",
    "change",
    "exchange",
    "overpayment",
    "late_payment",
    "unmatched_payment",
    "reported",
]
"""Why money goes back: goods returned (`return`, `exchange`), lines or the order cancelled before shipment
(`cancellation`, `change`), more paid than due (`overpayment`), paid after the order was cancelled
(`late_payment`), no order ever came for the payment (`unmatched_payment`), or the shop or provider gave it
back itself and reported it (`reported`: recorded only, there is nothing left to execute)."""


class _PaymentEvent(EventData):
    topic = topics.ORDERS
    key_field = "order_id"
    order_id: OrderId


class PaymentRecorded(_PaymentEvent):
    """A payment report was counted in the order's ledger. Views take the money from here, never from the
    `oms.order.paid` request (which may be refused). The totals are the order's after this payment."""

    event_type = "oms.payment.recorded"
    payment_id: PaymentId = Field(min_length=1, max_length=128)
    kind: PaymentKind
    amount: Money
    currency: Currency
    captured: Money
    refunded: Money
    balance_due: Money


class RefundIssued(_PaymentEvent):
    """Money goes back to the customer, to the payment it came from.

    v2 adds `payment_id` (always set by the order processor; absent only on v1 events), `cause`, the
    refunded `lines` and the return's `rma`. v1 refunds were all for returned goods.
    """

    event_type = "oms.refund.issued"
    schema_version = 2
    amount: Money
    currency: Currency
    reason: str
    payment_id: PaymentId | None = Field(default=None, max_length=128)
    cause: RefundCause = "return"
    lines: tuple[LineQty, ...] = ()
    rma: str | None = Field(default=None, max_length=64)

    @classmethod
    def upcast(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        if version == 1:
            return {**data, "cause": "return"}
        return data


class RefundReported(_PaymentEvent):
    """A shop or payment provider gave money back itself (a refund made in the shop's admin), reported for
    the order's ledger: `amount` more of `payment_id` went back, in refund `refund_id` (the provider's id,
    so a report sent twice is one refund). Inbound; the order processor records it as an
    `oms.refund.issued` with cause `reported`, or refuses it."""

    event_type = "oms.refund.reported"
    payment_id: PaymentId = Field(min_length=1, max_length=128)
    refund_id: str = Field(min_length=1, max_length=128)
    amount: Money
    currency: Currency
    reason: str = Field(default="refunded by the shop", min_length=1, max_length=200)


class PaymentCaptureRequested(_PaymentEvent):
    """Capture `amount` more of an authorized payment: a parcel of an order captured at shipment left."""

    event_type = "oms.payment.capture_requested"
    payment_id: PaymentId = Field(min_length=1, max_length=128)
    amount: Money
    currency: Currency
    shipment_id: str | None = None


class PaymentVoidRequested(_PaymentEvent):
    """Give back what is authorized and not captured of a payment (the order was cancelled, or has no
    use for it)."""

    event_type = "oms.payment.void_requested"
    payment_id: PaymentId = Field(min_length=1, max_length=128)
    amount: Money
    currency: Currency
    reason: str


class PaymentHoldExpired(_PaymentEvent):
    """Payments came for an order that was never placed and waited until `held_until`: the order processor
    refunds them. Emitted by the order processor's timer."""

    event_type = "oms.payment.hold_expired"
    held_until: UtcDatetime


PAYMENT_EVENTS: tuple[type[EventData], ...] = (
    PaymentRecorded,
    RefundIssued,
    RefundReported,
    PaymentCaptureRequested,
    PaymentVoidRequested,
    PaymentHoldExpired,
)
