"""Request and response bodies of the exceptions desk (`/api/v1/deadletters`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from adapters.http.api.schemas import ReadSchema


class RetryPublic(ReadSchema):
    retry_id: str
    type: str
    topic: str
    partition: int
    offset: int
    time: datetime
    status: str = Field(description="retried (nothing decided yet), resolved (the pipeline took it) or failed.")
    effects: list[str] = Field(description="The types of the pipeline's decisions in reaction to the retry.")
    retry_item: str | None = Field(description="The item the retry became when dead-lettered or refused again.")


class DeskItemPublic(ReadSchema):
    item_id: str
    category: str = Field(description="dead_letter, notification, shipment, refused, payment or backorder.")
    kind: str = Field(description="The dead letter's kind, the refusal's code, or no_eta.")
    reason: str
    status: str = Field(description="open, retried, resolved or failed.")
    subject: str = Field(description="The record's key: an order id or a sku.")
    processor: str | None
    topic: str
    partition: int
    offset: int
    event_id: str | None = Field(description="The event in question: the original, or the request refused.")
    event_type: str | None
    first_seen: datetime
    cleared_at: datetime | None
    retry_of: str | None = Field(description="The item this one is a failed retry of.")


class DeskItemDetail(DeskItemPublic):
    original: str | None = Field(description="The dead-lettered record's value, base64 (at most 64 KiB of it).")
    original_size: int | None
    retries: list[RetryPublic]


class DeskRetryCreate(BaseModel):
    event: dict[str, Any] | None = Field(
        default=None,
        description="A corrected CloudEvent (structured JSON) to publish instead of the original; its id is "
        "replaced, and its causationid and correlationid name the item.",
    )


class DeskRetryAccepted(BaseModel):
    item_id: str
    event_id: str
    type: str
    subject: str
