"""The exceptions desk: dead letters, refused requests, payment mismatches and backorders without an ETA; a retry
publishes the original (or a corrected) event under a new id caused by the item."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query

from adapters.http.api.deps import Context, DeskReads, OperatorOf, Paging, Viewer
from adapters.http.api.desk_schemas import (
    DeskItemDetail,
    DeskItemPublic,
    DeskRetryAccepted,
    DeskRetryCreate,
    RetryPublic,
)
from adapters.http.api.errors import NotFound, ServiceUnavailable, problem_responses
from adapters.http.api.schemas import Page
from adapters.http.channels.common import FieldError, PayloadInvalid
from adapters.sql.desk import NotRetryable, retry_event
from projections.desk import CATEGORIES
from projections.desk_reads import STATUSES

router = APIRouter(prefix="/api/v1/deadletters", tags=["exceptions desk"], dependencies=[Viewer])

DeskStatus = StrEnum("DeskStatus", [(status, status) for status in STATUSES])  # type: ignore[misc]
DeskCategory = StrEnum("DeskCategory", [(category, category) for category in CATEGORIES])  # type: ignore[misc]
ItemId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]


class EmptyDesk:
    """The desk of an API wired without a views database: nothing on it."""

    def list_items(
        self, *, status: str | None = None, category: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[Any], int]:
        return [], 0

    def get_item(self, item_id: str) -> Any | None:
        return None


def _desk(context: Any) -> DeskReads:
    if context.desk is None:
        raise ServiceUnavailable("The exceptions desk is not wired into this API (no views database).")
    desk: DeskReads = context.desk
    return desk


@router.get("", response_model=Page[DeskItemPublic], responses=problem_responses(401, 422, 503))
def list_deadletters(
    context: Context,
    paging: Paging,
    status: Annotated[DeskStatus | None, Query(description="open, retried, resolved or failed.")] = None,
    category: Annotated[DeskCategory | None, Query(description="What kind of trouble.")] = None,
) -> Page[DeskItemPublic]:
    """What needs a person, newest first: dead letters (with their reason and where the record sits), refused
    requests, payment mismatches, failed notifications and shipments, backorders without an ETA."""
    items, total = _desk(context).list_items(
        status=status and status.value, category=category and category.value, limit=paging.limit, offset=paging.offset
    )
    page = [DeskItemPublic.model_validate(public(item)) for item in items]
    return Page[DeskItemPublic](items=page, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{item_id}", response_model=DeskItemDetail, responses=problem_responses(401, 404, 503))
def show_deadletter(item_id: ItemId, context: Context) -> DeskItemDetail:
    """One item with its original bytes and every retry: what the pipeline made of each."""
    item = _desk(context).get_item(item_id)
    if item is None:
        raise NotFound(f"No desk item {item_id}.")
    return DeskItemDetail.model_validate(detail(item))


@router.post(
    "/{item_id}/retry",
    status_code=202,
    response_model=DeskRetryAccepted,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def retry_deadletter(
    item_id: ItemId, context: Context, principal: OperatorOf, body: DeskRetryCreate | None = None
) -> DeskRetryAccepted:
    """Publish the original event again, or `event` (a corrected CloudEvent), under a new id whose causation and
    correlation name the item; the desk then shows what became of it."""
    item = _desk(context).get_item(item_id)
    if item is None:
        raise NotFound(f"No desk item {item_id}.")
    corrected = orjson.dumps(body.event) if body is not None and body.event is not None else None
    try:
        event = retry_event(item, corrected)
    except NotRetryable as refused:
        raise PayloadInvalid([FieldError("event", str(refused))]) from None
    event = event.model_copy(update={"actor": principal.actor})
    await context.publisher.publish([event])
    return DeskRetryAccepted(item_id=item_id, event_id=str(event.id), type=event.type, subject=event.subject)


def public(item: Any) -> dict[str, Any]:
    fields: dict[str, Any] = item.as_dict()
    return fields


def detail(item: Any) -> dict[str, Any]:
    retries = [
        RetryPublic.model_validate(
            {
                "retry_id": r.retry_id, "type": r.type, "topic": r.topic, "partition": r.partition,
                "offset": r.offset, "time": r.time, "status": r.status, "effects": list(r.effects),
                "retry_item": r.retry_item,
            }
        )
        for r in item.retries
    ]  # fmt: skip
    return public(item) | {"retries": retries}
