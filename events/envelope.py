"""The CloudEvents 1.0 structured-mode envelope around every event."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from events.base import EventData, UtcDatetime, utc_now

D = TypeVar("D", bound=EventData)

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
ACTOR_MAX_LENGTH = 80
_NAMESPACE = uuid.UUID("6f1c1e0a-3d0e-4c55-9a43-0e8f0e0a0d11")


def derived_id(cause: uuid.UUID | str, step: str) -> uuid.UUID:
    """The id of an event caused by `cause` at `step`: the same inputs always give the same id."""
    return uuid.uuid5(uuid.UUID(str(cause)) if not isinstance(cause, uuid.UUID) else cause, step)


def natural_id(*parts: str) -> uuid.UUID:
    """A deterministic id from business keys (channel, external reference, ...)."""
    return uuid.uuid5(_NAMESPACE, "\x1f".join(parts))


class Event(BaseModel, Generic[D]):
    """One CloudEvent. `subject` is the partition key (order id or sku)."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    source: str
    type: str
    time: UtcDatetime
    subject: str
    data: D
    schemaversion: int
    correlationid: str
    causationid: str | None = None
    actor: Annotated[str, Field(max_length=ACTOR_MAX_LENGTH)] | None = None
    """Who asked for it (extension attribute): a user name, or `key:<id>` for a bootstrap ops key; never a secret.
    Only ops actions carry it; optional, so events written before it existed stay valid at the same versions."""
    specversion: str = SPECVERSION
    datacontenttype: str = CONTENT_TYPE

    @property
    def topic(self) -> str:
        return self.data.topic

    @property
    def key(self) -> str:
        return self.subject


def new_event(
    data: D,
    *,
    source: str,
    id: uuid.UUID | None = None,
    time: datetime | None = None,
    correlationid: str | None = None,
    actor: str | None = None,
) -> Event[D]:
    """A first event of a story (an order placed, stock received): it starts its own correlation."""
    event_id = id or uuid.uuid4()
    return Event(
        id=event_id,
        source=source,
        type=data.event_type,
        time=time or utc_now(),
        subject=data.partition_key(),
        data=data,
        schemaversion=data.schema_version,
        correlationid=correlationid or str(event_id),
        actor=actor,
    )


def caused_by(cause: Event[EventData], step: str, data: D, *, source: str, time: datetime | None = None) -> Event[D]:
    """An event emitted in reaction to `cause`. Its id is derived, so re-processing re-emits the same id."""
    return Event(
        id=derived_id(cause.id, step),
        source=source,
        type=data.event_type,
        time=time or utc_now(),
        subject=data.partition_key(),
        data=data,
        schemaversion=data.schema_version,
        correlationid=cause.correlationid,
        causationid=str(cause.id),
    )
