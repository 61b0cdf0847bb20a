"""Turning read-model rows and published events into response bodies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from adapters.http.api.deps import PageRequest
from adapters.http.api.schemas import ActionAccepted, Page
from events import Event

S = TypeVar("S", bound=BaseModel)


def as_schema(schema: type[S], row: Any) -> S:
    """A row of the read model (a mapping or an object with the fields) as a response schema."""
    if isinstance(row, Mapping):
        return schema.model_validate(dict(row))
    return schema.model_validate(row, from_attributes=True)


def page_of(schema: type[S], items: Sequence[Any], total: int, page: PageRequest) -> Page[S]:
    return Page[schema](  # type: ignore[valid-type]
        items=[as_schema(schema, item) for item in items], total=total, limit=page.limit, offset=page.offset
    )


def accepted(event: Event[Any]) -> ActionAccepted:
    return ActionAccepted(event_id=str(event.id), type=event.type, subject=event.subject)
