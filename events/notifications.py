"""Customer notifications, on `oms.notifications`, keyed by order id."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from events import topics
from events.base import EventData, OrderId
from events.common import Email, Language

NotificationKind = Literal[
    "confirmed",
    "backordered",
    "shipped",
    "delivered",
    "cancelled",
    "refunded",
    "awaiting_payment",
    "payment_refunded",
    "return_authorized",
    "return_received",
    "handed_over",
]
"""`refunded`: money back for returned goods; `payment_refunded`: money back that paid for nothing (paid
twice or too much, after a cancellation, for lines taken off the order). Money params are decimal strings
(`amount`, `amount_due`, `refund_amount`) with `currency`: the renderer formats them."""


class _NotificationEvent(EventData):
    topic = topics.NOTIFICATIONS
    key_field = "order_id"
    order_id: OrderId


class NotificationRequested(_NotificationEvent):
    """The order processor asks for a customer message; `params` fill the template."""

    event_type = "oms.notification.requested"
    kind: NotificationKind
    recipient: Email
    recipient_name: str | None = None
    language: Language | None = None
    params: dict[str, str] = Field(default_factory=dict)


class NotificationSent(_NotificationEvent):
    event_type = "oms.notification.sent"
    request_id: str
    kind: NotificationKind
    notifier: str
    language: Language
    subject: str


NOTIFICATION_EVENTS: tuple[type[EventData], ...] = (NotificationRequested, NotificationSent)
