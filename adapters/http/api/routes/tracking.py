"""Customer tracking: public, rate-limited, and silent about orders the caller cannot prove are theirs."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from adapters.http.api.deps import Context
from adapters.http.api.errors import NotFound, RateLimited, problem_responses
from adapters.http.api.ratelimit import client_address
from adapters.http.api.schemas import TrackingPublic
from adapters.http.api.views import as_schema

router = APIRouter(tags=["tracking"])

NOT_FOUND = "No order matches this order number and email address."
_NO_ORDER = b"\x00no-order\x00"


@router.get("/api/v1/track", response_model=TrackingPublic, responses=problem_responses(404, 422, 429))
def track(
    request: Request,
    context: Context,
    order: Annotated[str, Query(min_length=1, max_length=128, description="Order id or the shop's order number.")],
    email: Annotated[str, Query(min_length=3, max_length=254, description="The email the order was placed with.")],
) -> TrackingPublic:
    """Status, ETA and tracking link. A wrong email answers exactly as an unknown order does."""
    limiter = context.tracking_limiter
    if not limiter.allow(client_address(request)):
        raise RateLimited("Too many lookups; try again later.", headers={"Retry-After": str(limiter.retry_after())})
    row = owned_order(context.read_model.find_for_tracking(order.strip()), email)
    if row is None:
        raise NotFound(NOT_FOUND)
    return as_schema(TrackingPublic, row)


@router.get("/track", response_class=HTMLResponse, include_in_schema=False)
def track_page() -> HTMLResponse:
    page = resources.files("adapters.http.api").joinpath("static/track.html").read_text(encoding="utf-8")
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"
        },
    )


def owned_order(candidates: Sequence[Any], email: str) -> Any | None:
    """The candidate placed with `email`. Every candidate is compared in constant time, and one
    comparison is made when there is none, so a miss costs what a wrong email costs."""
    wanted = email.strip().lower().encode()
    found = None
    for row in candidates:
        if hmac.compare_digest(wanted, _email_of(row).encode()) and found is None:
            found = row
    if not candidates:
        hmac.compare_digest(wanted, _NO_ORDER)
    return found


def _email_of(row: Any) -> str:
    value = row.get("customer_email") if isinstance(row, Mapping) else getattr(row, "customer_email", None)
    return str(value or "").strip().lower()
