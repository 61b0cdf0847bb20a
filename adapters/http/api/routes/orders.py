"""Orders: reads for ops, ops actions (cancel, returns) and the payment webhook."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query

from adapters.http.api.deps import INSTANT, Context, OpsKey, OrderFilters, Paging, QueryInstant, signed_or_ops
from adapters.http.api.errors import NotFound, problem_responses
from adapters.http.api.intake import publish_action
from adapters.http.api.schemas import (
    ORDER_ID_PATTERN,
    ActionAccepted,
    CancelCreate,
    OrderDetail,
    OrderSummary,
    Page,
    PaymentCreate,
    ReturnCreate,
    ReturnReceiptCreate,
)
from adapters.http.api.views import accepted, as_schema, page_of
from adapters.order_statuses import OrderStatus
from events import LineQty, OrderCancelRequested, OrderPaid, ReturnReceived, ReturnRequested

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])

OrderIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ORDER_ID_PATTERN)]
IdempotencyKey = Annotated[
    str | None,
    Header(max_length=128, description="Send the same key when retrying: the retry repeats the same event id."),
]
ACTION_RESPONSES = problem_responses(401, 422, 503)
SOURCE = "oms/api/ops"


@router.get("", response_model=Page[OrderSummary], dependencies=[OpsKey], responses=problem_responses(401, 422))
def list_orders(
    context: Context,
    paging: Paging,
    status: Annotated[OrderStatus | None, Query()] = None,
    channel: Annotated[str | None, Query(max_length=40)] = None,
    customer: Annotated[str | None, Query(max_length=254, description="Customer email.")] = None,
    placed_from: Annotated[QueryInstant | None, Query(description=f"Placed at or after ({INSTANT}).")] = None,
    placed_to: Annotated[QueryInstant | None, Query(description=f"Placed before ({INSTANT}).")] = None,
) -> Page[OrderSummary]:
    filters = OrderFilters(status and status.value, channel, customer, placed_from, placed_to)
    items, total = context.read_model.list_orders(filters, paging)
    return page_of(OrderSummary, items, total, paging)


@router.get("/{order_id}", response_model=OrderDetail, dependencies=[OpsKey], responses=problem_responses(401, 404))
def get_order(order_id: OrderIdPath, context: Context) -> OrderDetail:
    """The order as the processor decided it: status, ledger (total, authorized, captured, refunded, balance due),
    payments, parcels (each with its own tracking), returns, and the timeline (oldest first), where a request the
    processor refused is `refused`, with its code and reason."""
    row = context.read_model.get_order(order_id)
    if row is None:
        raise NotFound(f"No order {order_id}.")
    return as_schema(OrderDetail, row)


@router.post(
    "/{order_id}/payments",
    status_code=202,
    response_model=ActionAccepted,
    dependencies=[Depends(signed_or_ops("payments"))],
    responses=ACTION_RESPONSES,
)
async def mark_paid(order_id: OrderIdPath, body: PaymentCreate, context: Context) -> ActionAccepted:
    """Payment webhook: signed with `X-OMS-Signature` (secret `OMS_CHANNEL_SECRET_PAYMENTS`) or an ops API key.
    `amount` is what payment `payment_id` has authorized or captured in all: a re-sent report (the same
    payment, kind and amount) repeats the same event id; a higher amount or a capture after an authorization
    is a new report of the same payment, never a second payment."""
    data = OrderPaid(
        order_id=order_id,
        amount=body.amount,
        method=body.method,
        payment_id=body.payment_id,
        kind=body.kind,
        currency=body.currency,
    )
    dedup_key = f"{body.payment_id}:{body.kind}:{body.amount.normalize():f}" if body.payment_id else None
    event = await publish_action(context, data, source="oms/api/payments", dedup_key=dedup_key)
    return accepted(event)


@router.post(
    "/{order_id}/cancel",
    status_code=202,
    response_model=ActionAccepted,
    dependencies=[OpsKey],
    responses=ACTION_RESPONSES,
)
async def request_cancellation(
    order_id: OrderIdPath, body: CancelCreate, context: Context, idempotency_key: IdempotencyKey = None
) -> ActionAccepted:
    data = OrderCancelRequested(order_id=order_id, reason=body.reason)
    return accepted(await publish_action(context, data, source=SOURCE, dedup_key=idempotency_key))


@router.post(
    "/{order_id}/returns",
    status_code=202,
    response_model=ActionAccepted,
    dependencies=[OpsKey],
    responses=ACTION_RESPONSES,
)
async def request_return(
    order_id: OrderIdPath, body: ReturnCreate, context: Context, idempotency_key: IdempotencyKey = None
) -> ActionAccepted:
    lines = tuple(LineQty(sku=line.sku, qty=line.qty) for line in body.lines)
    data = ReturnRequested(order_id=order_id, lines=lines, reason=body.reason)
    return accepted(await publish_action(context, data, source=SOURCE, dedup_key=idempotency_key))


@router.post(
    "/{order_id}/returns/received",
    status_code=202,
    response_model=ActionAccepted,
    dependencies=[OpsKey],
    responses=ACTION_RESPONSES,
)
async def receive_return(
    order_id: OrderIdPath, body: ReturnReceiptCreate, context: Context, idempotency_key: IdempotencyKey = None
) -> ActionAccepted:
    lines = tuple(LineQty(sku=line.sku, qty=line.qty) for line in body.lines)
    data = ReturnReceived(order_id=order_id, lines=lines, resellable=body.resellable)
    return accepted(await publish_action(context, data, source=SOURCE, dedup_key=idempotency_key))
