"""Request and response bodies of the outbound webhooks (`/api/v1/webhooks`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from adapters.http.api.schemas import ReadSchema


class WebhookCreate(BaseModel):
    url: str = Field(max_length=2000, description="Where to POST the events: an http:// or https:// address.")
    event_types: list[str] = Field(
        min_length=1,
        max_length=50,
        description="Event types (`oms.order.paid`), dotted prefixes (`oms.order.*`), or `*` for every type.",
    )
    secret: str | None = Field(
        default=None,
        max_length=200,
        description="The signing secret, `whsec_<base64 of 24 to 64 bytes>`; left out: one is made and returned once.",
    )
    description: str = Field(default="", max_length=500)


class WebhookPublic(ReadSchema):
    subscription_id: str
    url: str
    event_types: list[str]
    description: str
    status: str = Field(description="active, or paused (by a person, or after failing too many times in a row).")
    created_at: datetime
    failures_in_a_row: int
    paused_at: datetime | None


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="The signing secret: shown here only; give it to the subscriber.")


class DeliveryPublic(ReadSchema):
    delivery_id: str
    event_id: str = Field(description="The CloudEvent's id: the `webhook-id` header and the idempotency key.")
    event_type: str
    ordering_key: str = Field(description="The record's key (order id or sku): deliveries of one key go in order.")
    status: str = Field(description="pending (first try or retry due), delivered, or failed (given up after 24 h).")
    attempts: int
    response_code: int | None
    latency_ms: int | None
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    next_attempt_at: datetime
    redelivery_of: str | None = Field(description="The delivery this one sends again, for a manual redelivery.")


class AttemptPublic(ReadSchema):
    attempt: int
    at: datetime
    response_code: int | None
    latency_ms: int
    error: str | None


class DeliveryDetail(DeliveryPublic):
    attempt_log: list[AttemptPublic]


class RedeliverSince(BaseModel):
    since: datetime = Field(description="Send again every event of this time or later (no offset: UTC).")


class Redelivered(BaseModel):
    deliveries: list[str] = Field(description="The new deliveries' ids.")
