"""The dashboard's pages: each reads the projected views and renders one template."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from adapters.http.api.deps import Context, OrderFilters, PageRequest
from adapters.http.api.schemas import ORDER_ID_PATTERN
from adapters.http.dashboard import charts, reads
from adapters.http.dashboard.auth import CurrentSession, DashboardRoute
from adapters.http.dashboard.render import page

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)

FEED_SIZE = 100
ORDERS_PER_MINUTE_WINDOW = 30


@router.get("", response_class=HTMLResponse)
def overview(
    request: Request,
    context: Context,
    session: CurrentSession,
    awaiting_minutes: Annotated[int, Query(ge=1, le=10_080)] = 30,
    unshipped_hours: Annotated[int, Query(ge=1, le=720)] = 24,
) -> HTMLResponse:
    now, read_model = context.clock(), context.read_model
    per_minute = reads.orders_per_minute(read_model, now, ORDERS_PER_MINUTE_WINDOW)
    rules = reads.StuckRules(timedelta(minutes=awaiting_minutes), timedelta(hours=unshipped_hours))
    return page(
        request,
        "overview.html",
        session,
        **_board(context),
        per_minute=charts.dot_chart([f"{m:%H:%M}" for m, _ in per_minute], [n for _, n in per_minute]),
        last_minute=per_minute[-1][1],
        today=reads.revenue_today(read_model, now),
        stuck=reads.stuck_orders(read_model, now, rules),
        rules=rules,
    )


@router.get("/board", response_class=HTMLResponse)
def board(request: Request, context: Context, session: CurrentSession) -> HTMLResponse:
    """The live part of the overview, polled by htmx."""
    return page(request, "_board.html", session, **_board(context))


def _board(context: Context) -> dict[str, Any]:
    counts = reads.status_counts(context.read_model)
    return {"counts": counts, "total": sum(n for _, n in counts), "latest": reads.latest_orders(context.read_model)}


@router.get("/orders", response_class=HTMLResponse)
def orders(
    request: Request,
    context: Context,
    session: CurrentSession,
    q: Annotated[str, Query(max_length=254)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """Search by order id, external reference or customer email; without a query, the latest orders."""
    if q.strip():
        found = reads.search_orders(context.read_model, q)
    else:
        found = reads.orders_where(context.read_model, OrderFilters(status=status or None), PageRequest(limit=50))
    return page(request, "orders.html", session, query=q.strip(), status=status, orders=found)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_detail(
    request: Request,
    context: Context,
    session: CurrentSession,
    order_id: Annotated[str, Path(min_length=1, max_length=64, pattern=ORDER_ID_PATTERN)],
) -> HTMLResponse:
    order = reads.find_order(context.read_model, order_id)
    if order is None:
        return page(request, "missing.html", session, status_code=404, what=f"order {order_id}")
    cancellable = reads.is_cancellable(order)
    return page(request, "order.html", session, order=order, cancellable=cancellable, nonce=uuid4().hex)


@router.get("/inventory", response_class=HTMLResponse)
def inventory(request: Request, context: Context, session: CurrentSession, low: bool = False) -> HTMLResponse:
    stock = reads.stock_levels(context.read_model, low_only=low)
    return page(
        request,
        "inventory.html",
        session,
        stock=stock,
        low_only=low,
        suggestions=reads.reorder_suggestions(stock),
        nonce=uuid4().hex,
        sku=request.query_params.get("sku", ""),
    )


@router.get("/feed", response_class=HTMLResponse)
def feed(request: Request, context: Context, session: CurrentSession) -> HTMLResponse:
    """Shipments and notifications, newest first, from the order timelines."""
    entries = reads.extra_reads(context.read_model).feed(FEED_SIZE)
    return page(request, "feed.html", session, entries=entries)


@router.get("/analytics", response_class=HTMLResponse)
def analytics(
    request: Request, context: Context, session: CurrentSession, days: Annotated[int, Query(ge=1, le=90)] = 14
) -> HTMLResponse:
    today = context.clock().date()
    span = [today - timedelta(days=days - 1 - i) for i in range(days)]
    extra = reads.extra_reads(context.read_model)
    units = reads.units_by_day_and_channel(extra.sales(span[0], today), span)
    placed = reads.orders_where(context.read_model, OrderFilters(placed_from=reads.day_start(span[0])))
    histogram = reads.shipping_time_histogram(placed)
    rates = extra.rates(span[0], today)
    rate_values = [100 * (rates[key] or 0) for key in ("backorder_rate", "cancellation_rate")]
    return page(
        request,
        "analytics.html",
        session,
        days=days,
        rates=rates,
        sales_chart=charts.bar_chart([f"{day:%m-%d}" for day in span], units),
        shipping_chart=charts.bar_chart([label for label, _ in histogram], {"orders": [n for _, n in histogram]}),
        rates_chart=charts.bar_chart(["backordered", "cancelled"], {"rate": rate_values}, unit="%"),
    )
