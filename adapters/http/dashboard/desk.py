"""The exceptions desk page: what needs a person (dead letters, refused requests, payment mismatches, failed
notifications and shipments, backorders without an ETA), each item with what became of its retries, and a retry
form that publishes the original or a corrected event, as `POST /api/v1/deadletters/{id}/retry` does."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from adapters.http.api.deps import Context
from adapters.http.dashboard.auth import CurrentSession, DashboardRoute, OperatorSession, check_csrf
from adapters.http.dashboard.render import page
from adapters.kafka.publisher import PublishFailed
from adapters.sql.desk import NotRetryable, retry_event
from projections.desk import CATEGORIES
from projections.desk_reads import STATUSES

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)

ItemId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]
PAGE_SIZE = 100


@router.get("/deadletters", response_class=HTMLResponse)
def desk_page(
    request: Request,
    context: Context,
    session: CurrentSession,
    status: Annotated[str, Query(max_length=20)] = "",
    category: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return page(request, "desk.html", session, **_listing(context, status, category))


@router.get("/deadletters/items", response_class=HTMLResponse)
def desk_items(
    request: Request,
    context: Context,
    session: CurrentSession,
    status: Annotated[str, Query(max_length=20)] = "",
    category: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """The list alone, polled by htmx."""
    return page(request, "_desk_items.html", session, **_listing(context, status, category))


def _listing(context: Context, status: str, category: str) -> dict[str, Any]:
    status = status if status in STATUSES else ""
    category = category if category in CATEGORIES else ""
    desk = context.desk
    items, total = (
        desk.list_items(status=status or None, category=category or None, limit=PAGE_SIZE) if desk else ([], 0)
    )
    return {"items": items, "total": total, "status": status, "category": category}


@router.get("/deadletters/{item_id}", response_class=HTMLResponse)
def desk_item(
    request: Request, context: Context, session: CurrentSession, item_id: ItemId, error: str = ""
) -> HTMLResponse:
    item = context.desk.get_item(item_id) if context.desk else None
    if item is None:
        return page(request, "missing.html", session, status_code=404, what=f"desk item {item_id}")
    return page(request, "desk_item.html", session, item=item, error=error[:500])


@router.post("/deadletters/{item_id}/retry", response_model=None)
async def retry_item(
    request: Request,
    context: Context,
    session: OperatorSession,
    item_id: ItemId,
    csrf: Annotated[str, Form()] = "",
    event: Annotated[str, Form(max_length=1_000_000)] = "",
) -> RedirectResponse | HTMLResponse:
    check_csrf(session, csrf)
    item = context.desk.get_item(item_id) if context.desk else None
    if item is None:
        return page(request, "missing.html", session, status_code=404, what=f"desk item {item_id}")
    try:
        retry = retry_event(item, event.strip().encode() or None)
        await context.publisher.publish([retry.model_copy(update={"actor": session.actor})])
    except NotRetryable as refused:
        return page(request, "desk_item.html", session, status_code=422, item=item, error=str(refused))
    except PublishFailed:
        return page(
            request, "desk_item.html", session, status_code=503, item=item, error="The event log did not answer."
        )
    return RedirectResponse(f"/dashboard/deadletters/{item_id}?notice=retried", status_code=303)
