"""Orders: reads for ops, ops actions (cancel, returns) and the payment webhook."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator

from adapters.http.api.deps import (
    INSTANT,
    Context,
    OperatorOf,
    OrderFilters,
    Paging,
    QueryInstant,
    Viewer,
    signed_or_ops,
)
from adapters.http.api.errors import NotFound, Unprocessable, problem_responses
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
from adapters.http.api.views import accepted, as_schema, orders_csv, page_of
from adapters.order_statuses import OrderStatus, PaymentStatus
from events import LineQty, OrderCancelRequested, OrderPaid, ReturnReceived, ReturnRequested
from projections import order_list_queries as order_list
from projections.order_list_queries import BadCursor, OrderQuery, Sort

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])

OrderIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ORDER_ID_PATTERN)]
IdempotencyKey = Annotated[
    str | None,
    Header(max_length=128, description="Send the same key when retrying: the retry repeats the same event id."),
]
ACTION_RESPONSES = problem_responses(401, 403, 422, 503)
SOURCE = "oms/api/ops"


def order_query(
    status: Annotated[OrderStatus | None, Query()] = None,
    channel: Annotated[str | None, Query(max_length=40)] = None,
    customer: Annotated[str | None, Query(max_length=254, description="Customer email, exactly.")] = None,
    payment_status: Annotated[PaymentStatus | None, Query()] = None,
    placed_from: Annotated[QueryInstant | None, Query(description=f"Placed at or after ({INSTANT}).")] = None,
    placed_to: Annotated[QueryInstant | None, Query(description=f"Placed before ({INSTANT}).")] = None,
    q: Annotated[
        str | None,
        Query(max_length=254, description="Part of the order id, external reference, customer email or name."),
    ] = None,
    sort: Annotated[Sort, Query(description="newest or oldest placed first, or most recently updated first.")] = (
        "newest"
    ),
) -> OrderQuery:
    return OrderQuery(
        status and status.value,
        channel,
        payment_status and payment_status.value,
        customer,
        placed_from,
        placed_to,
        q,
        sort,
    )


Listing = Annotated[OrderQuery, Depends(order_query)]
Cursor = Annotated[
    str | None,
    Query(max_length=300, description="The next page: `next` of the previous page's `Link` header."),
    AfterValidator(lambda cursor: cursor and _readable(cursor)),
]


def _readable(cursor: str) -> str:
    try:
        order_list.read_cursor(cursor)
    except BadCursor as bad:
        raise ValueError(str(bad)) from None
    return cursor


@router.get("", response_model=Page[OrderSummary], dependencies=[Viewer], responses=problem_responses(401, 422))
def list_orders(
    request: Request, response: Response, context: Context, paging: Paging, listing: Listing, after: Cursor = None
) -> Page[OrderSummary]:
    """Orders matching every filter given. Pages by keyset: the `Link` header's `next` (also `X-Next-Cursor`)
    gives the next page (`after`), as cheap as the first whatever the depth. `offset` still works, without
    `q`, `payment_status`, `sort` or `after`."""
    if paging.offset:
        if listing.search or listing.payment_status or listing.sort != "newest" or after:
            raise Unprocessable("offset pages only the newest orders by status, channel, customer and dates")
        legacy = OrderFilters(listing.status, listing.channel, listing.customer, listing.placed_from, listing.placed_to)
        items, total = context.read_model.list_orders(legacy, paging)
        return page_of(OrderSummary, items, total, paging)
    try:
        page = context.read_model.order_page(listing, paging.limit, after)
    except BadCursor as bad:
        raise Unprocessable(f"after: {bad}") from None
    if page.next_cursor:
        following = request.url.include_query_params(after=page.next_cursor)
        response.headers["Link"] = f'<{following}>; rel="next"'
        response.headers["X-Next-Cursor"] = page.next_cursor
    return page_of(OrderSummary, page.rows, page.total, paging)


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    dependencies=[Viewer],
    responses={**problem_responses(401, 422), 200: {"content": {"text/csv": {}}}},
)
def export_orders(context: Context, listing: Listing) -> StreamingResponse:
    """Every order matching the filters, as CSV, in the list's order."""
    lines = orders_csv(context.read_model.every_order(listing))
    disposition = {"Content-Disposition": 'attachment; filename="orders.csv"'}
    return StreamingResponse(lines, media_type="text/csv; charset=utf-8", headers=disposition)


@router.get("/{order_id}", response_model=OrderDetail, dependencies=[Viewer], responses=problem_responses(401, 404))
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
    responses=ACTION_RESPONSES,
)
async def request_cancellation(
    order_id: OrderIdPath,
    principal: OperatorOf,
    body: CancelCreate,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> ActionAccepted:
    data = OrderCancelRequested(order_id=order_id, reason=body.reason)
    return accepted(
        await publish_action(context, data, source=SOURCE, dedup_key=idempotency_key, actor=principal.actor)
    )


@router.post(
    "/{order_id}/returns",
    status_code=202,
    response_model=ActionAccepted,
    responses=ACTION_RESPONSES,
)
async def request_return(
    order_id: OrderIdPath,
    principal: OperatorOf,
    body: ReturnCreate,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> ActionAccepted:
    lines = tuple(LineQty(sku=line.sku, qty=line.qty) for line in body.lines)
    data = ReturnRequested(order_id=order_id, lines=lines, reason=body.reason)
    return accepted(
        await publish_action(context, data, source=SOURCE, dedup_key=idempotency_key, actor=principal.actor)
    )


@router.post(
    "/{order_id}/returns/received",
    status_code=202,
    response_model=ActionAccepted,
    responses=ACTION_RESPONSES,
)
async def receive_return(
    order_id: OrderIdPath,
    principal: OperatorOf,
    body: ReturnReceiptCreate,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> ActionAccepted:
    lines = tuple(LineQty(sku=line.sku, qty=line.qty) for line in body.lines)
    data = ReturnReceived(order_id=order_id, lines=lines, resellable=body.resellable)
    return accepted(
        await publish_action(context, data, source=SOURCE, dedup_key=idempotency_key, actor=principal.actor)
    )
