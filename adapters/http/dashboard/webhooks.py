"""The webhooks page (ops key holders, who are the admins until there are roles): subscriptions, each one's
delivery log, and the buttons for what `/api/v1/webhooks` does by hand (redeliver, pause, resume)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from adapters.http.api.deps import Context, webhook_store
from adapters.http.dashboard.auth import AdminSession, DashboardRoute, check_csrf
from adapters.http.dashboard.render import page
from adapters.sql.webhook_tables import ACTIVE, DELIVERED, FAILED, PAUSED, PENDING

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)

Uuid = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]
PAGE_SIZE = 100
NOTICES = {
    "redelivered": "Queued again: `oms deliver` sends it after what its line already holds.",
    ACTIVE: "Resumed: what waited is sent first, in order.",
    PAUSED: "Paused: deliveries are queued and wait.",
}


@router.get("/webhooks", response_class=HTMLResponse)
def webhooks_page(request: Request, context: Context, session: AdminSession) -> HTMLResponse:
    subscriptions = webhook_store(context).subscriptions()
    return page(request, "webhooks.html", session, subscriptions=subscriptions)


@router.get("/webhooks/{subscription_id}", response_class=HTMLResponse)
def webhook_page(
    request: Request,
    context: Context,
    session: AdminSession,
    subscription_id: Uuid,
    status: Annotated[str, Query(max_length=20)] = "",
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    store = webhook_store(context)
    subscription = store.subscription(subscription_id)
    if subscription is None:
        return page(request, "missing.html", session, status_code=404, what=f"webhook subscription {subscription_id}")
    status = status if status in (PENDING, DELIVERED, FAILED) else ""
    deliveries, total = store.deliveries(subscription_id, status=status or None, limit=PAGE_SIZE)
    return page(
        request,
        "webhook.html",
        session,
        notice=NOTICES.get(done),
        subscription=subscription,
        deliveries=deliveries,
        total=total,
        status=status,
    )


@router.post("/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver", response_model=None)
def redeliver(
    context: Context,
    session: AdminSession,
    subscription_id: Uuid,
    delivery_id: Uuid,
    csrf: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(session, csrf)
    webhook_store(context).redeliver(subscription_id, delivery_id)
    return RedirectResponse(f"/dashboard/webhooks/{subscription_id}?done=redelivered", status_code=303)


@router.post("/webhooks/{subscription_id}/status", response_model=None)
def set_status(
    context: Context,
    session: AdminSession,
    subscription_id: Uuid,
    csrf: Annotated[str, Form()] = "",
    status: Annotated[str, Form(max_length=20)] = "",
) -> RedirectResponse:
    check_csrf(session, csrf)
    if status in (ACTIVE, PAUSED):
        webhook_store(context).set_status(subscription_id, status)
    return RedirectResponse(f"/dashboard/webhooks/{subscription_id}?done={status}", status_code=303)
