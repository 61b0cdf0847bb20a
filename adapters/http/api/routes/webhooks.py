"""Outbound webhook subscriptions, their delivery log and redelivery. Ops key only (an admin's: there are no roles
yet). `oms deliver` does the sending; this router only writes what it is to send."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from adapters.http.api.deps import Admin, Context, Paging, utc_instant, webhook_store
from adapters.http.api.errors import NotFound, problem_responses
from adapters.http.api.schemas import Page
from adapters.http.api.webhook_schemas import (
    AttemptPublic,
    DeliveryDetail,
    DeliveryPublic,
    Redelivered,
    RedeliverSince,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
)
from adapters.http.channels.common import FieldError, PayloadInvalid
from adapters.sql.webhook_tables import ACTIVE, DELIVERED, FAILED, PAUSED, PENDING, REMOVED
from adapters.sql.webhooks import BadSubscription, Subscription, WebhookStore

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], dependencies=[Admin])

Uuid = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]
DeliveryStatus = StrEnum("DeliveryStatus", [(s, s) for s in (PENDING, DELIVERED, FAILED)])  # type: ignore[misc]


def _subscription(context: Context, subscription_id: str) -> tuple[WebhookStore, Subscription]:
    store = webhook_store(context)
    found = store.subscription(subscription_id)
    if found is None:
        raise NotFound(f"No webhook subscription {subscription_id}.")
    return store, found


@router.post("", status_code=201, response_model=WebhookCreated, responses=problem_responses(401, 422))
def create_webhook(body: WebhookCreate, context: Context) -> WebhookCreated:
    """Subscribe a URL to event types. Deliveries are signed the Standard Webhooks way with `secret` (returned here
    once; made when left out): `webhook-id` is the event's id, the body the CloudEvent."""
    try:
        made = webhook_store(context).subscribe(body.url, body.event_types, body.secret, body.description)
    except BadSubscription as refused:
        raise PayloadInvalid([FieldError(refused.field, str(refused))]) from None
    return WebhookCreated.model_validate(vars(made))


@router.get("", response_model=list[WebhookPublic], responses=problem_responses(401))
def list_webhooks(context: Context) -> list[WebhookPublic]:
    """Every live subscription (secrets are never shown again)."""
    return [WebhookPublic.model_validate(s) for s in webhook_store(context).subscriptions()]


@router.get("/{subscription_id}", response_model=WebhookPublic, responses=problem_responses(401, 404))
def show_webhook(subscription_id: Uuid, context: Context) -> WebhookPublic:
    return WebhookPublic.model_validate(_subscription(context, subscription_id)[1])


@router.delete("/{subscription_id}", status_code=204, responses=problem_responses(401, 404))
def remove_webhook(subscription_id: Uuid, context: Context) -> Response:
    """End the subscription: nothing new is queued for it; its delivery log stays."""
    if not webhook_store(context).set_status(subscription_id, REMOVED):
        raise NotFound(f"No webhook subscription {subscription_id}.")
    return Response(status_code=204)


@router.post("/{subscription_id}/pause", response_model=WebhookPublic, responses=problem_responses(401, 404))
def pause_webhook(subscription_id: Uuid, context: Context) -> WebhookPublic:
    """Stop sending; deliveries keep being queued and wait."""
    return _set_status(context, subscription_id, PAUSED)


@router.post("/{subscription_id}/resume", response_model=WebhookPublic, responses=problem_responses(401, 404))
def resume_webhook(subscription_id: Uuid, context: Context) -> WebhookPublic:
    """Send again (a subscriber paused for failing starts with what waited), its failures in a row back to 0."""
    return _set_status(context, subscription_id, ACTIVE)


def _set_status(context: Context, subscription_id: str, status: str) -> WebhookPublic:
    store = webhook_store(context)
    if not store.set_status(subscription_id, status):
        raise NotFound(f"No webhook subscription {subscription_id}.")
    return WebhookPublic.model_validate(_subscription(context, subscription_id)[1])


@router.get(
    "/{subscription_id}/deliveries", response_model=Page[DeliveryPublic], responses=problem_responses(401, 404, 422)
)
def list_deliveries(
    subscription_id: Uuid,
    context: Context,
    paging: Paging,
    status: Annotated[DeliveryStatus | None, Query(description="pending, delivered or failed.")] = None,
) -> Page[DeliveryPublic]:
    """The delivery log, newest first: status, attempts, the last answer's code and latency."""
    store, _ = _subscription(context, subscription_id)
    rows, total = store.deliveries(
        subscription_id, status=status and status.value, limit=paging.limit, offset=paging.offset
    )
    items = [DeliveryPublic.model_validate(row) for row in rows]
    return Page[DeliveryPublic](items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get(
    "/{subscription_id}/deliveries/{delivery_id}", response_model=DeliveryDetail, responses=problem_responses(401, 404)
)
def show_delivery(subscription_id: Uuid, delivery_id: Uuid, context: Context) -> DeliveryDetail:
    """One delivery with every attempt."""
    store, _ = _subscription(context, subscription_id)
    row = store.delivery(subscription_id, delivery_id)
    if row is None:
        raise NotFound(f"No delivery {delivery_id} of {subscription_id}.")
    attempts = [AttemptPublic.model_validate(a) for a in store.attempts(delivery_id)]
    return DeliveryDetail.model_validate(row | {"attempt_log": attempts})


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=Redelivered,
    responses=problem_responses(401, 404),
)
def redeliver_one(subscription_id: Uuid, delivery_id: Uuid, context: Context) -> Redelivered:
    """Send the delivery's event again (same `webhook-id`), after what its line already holds."""
    store, _ = _subscription(context, subscription_id)
    new = store.redeliver(subscription_id, delivery_id)
    if new is None:
        raise NotFound(f"No delivery {delivery_id} of {subscription_id}.")
    return Redelivered(deliveries=[new])


@router.post(
    "/{subscription_id}/redeliver", status_code=202, response_model=Redelivered, responses=problem_responses(401, 404)
)
def redeliver_since(subscription_id: Uuid, body: RedeliverSince, context: Context) -> Redelivered:
    """Send again every event of the subscription's log whose time is `since` or later, in their order."""
    store, _ = _subscription(context, subscription_id)
    try:
        since = utc_instant(body.since)
    except ValueError as refused:
        raise PayloadInvalid([FieldError("since", str(refused))]) from None
    return Redelivered(deliveries=store.redeliver_since(subscription_id, since))
