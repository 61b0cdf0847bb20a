"""The dashboard's pages: each reads the projected views and renders one template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import uuid4

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from adapters.http.api import views
from adapters.http.api.deps import Context
from adapters.http.api.schemas import ORDER_ID_PATTERN
from adapters.http.dashboard import charts, reads
from adapters.http.dashboard.auth import CurrentSession, DashboardRoute
from adapters.http.dashboard.render import page
from adapters.http.dashboard.stock import STOCK_SORTS, sort_link, stock_listing, stock_table
from projections.inventory_search import StockQuery
from projections.order_list_queries import PAYMENT_STATUSES, SORTS, BadCursor, OrderQuery, Sort
from projections.order_progress import STATUSES
from projections.overview_queries import GROSS_MEANS, NET_MEANS, StatusCount, StuckRules

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)

FEED_SIZE = 100
ORDERS_PER_MINUTE_WINDOW = 30


AwaitingMinutes = Annotated[int | None, Query(ge=1, le=10_080, description="Unpaid for longer: stuck.")]
UnshippedHours = Annotated[int | None, Query(ge=1, le=720, description="Confirmed, no parcel left for longer.")]
NoEtaMinutes = Annotated[int | None, Query(ge=1, le=43_200, description="Backordered without an ETA for longer.")]


@router.get("", response_class=HTMLResponse)
def overview(
    request: Request,
    context: Context,
    session: CurrentSession,
    awaiting_minutes: AwaitingMinutes = None,
    unshipped_hours: UnshippedHours = None,
    no_eta_minutes: NoEtaMinutes = None,
) -> HTMLResponse:
    rules = stuck_rules(context, awaiting_minutes, unshipped_hours, no_eta_minutes)
    return page(request, "overview.html", session, **_board(context), **_live(context, rules))


@router.get("/live", response_class=HTMLResponse)
def live(
    request: Request,
    context: Context,
    session: CurrentSession,
    awaiting_minutes: AwaitingMinutes = None,
    unshipped_hours: UnshippedHours = None,
    no_eta_minutes: NoEtaMinutes = None,
) -> HTMLResponse:
    """The overview's cards, chart and stuck lists, polled by htmx."""
    rules = stuck_rules(context, awaiting_minutes, unshipped_hours, no_eta_minutes)
    return page(request, "_live.html", session, **_board(context), **_live(context, rules))


@router.get("/board", response_class=HTMLResponse)
def board(request: Request, context: Context, session: CurrentSession) -> HTMLResponse:
    """The status counts and the latest orders alone."""
    statuses = reads.views_of(context.read_model).status_counts()
    return page(request, "_board.html", session, **_board(context), numbers=BoardNumbers(statuses))


def stuck_rules(
    context: Context, awaiting_minutes: int | None, unshipped_hours: int | None, no_eta_minutes: int | None
) -> StuckRules:
    """The limits asked for, else the defaults beside the pipeline's payment timeout."""
    defaults = StuckRules.beside(timedelta(seconds=context.settings.payment_timeout_s))
    return StuckRules(
        awaiting_payment=timedelta(minutes=awaiting_minutes) if awaiting_minutes else defaults.awaiting_payment,
        unshipped=timedelta(hours=unshipped_hours) if unshipped_hours else defaults.unshipped,
        backordered_without_eta=(
            timedelta(minutes=no_eta_minutes) if no_eta_minutes else defaults.backordered_without_eta
        ),
    )


def _live(context: Context, rules: StuckRules) -> dict[str, Any]:
    numbers = reads.views_of(context.read_model).overview(context.clock(), rules, ORDERS_PER_MINUTE_WINDOW)
    labels = [f"{point.minute:%H:%M}" for point in numbers.per_minute]
    return {
        "numbers": numbers,
        "per_minute": charts.dot_chart(labels, [point.orders for point in numbers.per_minute]),
        "rules": rules,
        "payment_timeout": timedelta(seconds=context.settings.payment_timeout_s),
        "gross_means": GROSS_MEANS,
        "net_means": NET_MEANS,
        "live_query": urlencode(
            {
                "awaiting_minutes": int(rules.awaiting_payment.total_seconds() // 60),
                "unshipped_hours": int(rules.unshipped.total_seconds() // 3600),
                "no_eta_minutes": int(rules.backordered_without_eta.total_seconds() // 60),
            }
        ),
    }


@dataclass(frozen=True)
class BoardNumbers:
    """What the board shows of the overview's numbers."""

    statuses: list[StatusCount]

    @property
    def orders(self) -> int:
        return sum(count.orders for count in self.statuses)


def _board(context: Context) -> dict[str, Any]:
    return {"latest": reads.latest_orders(context.read_model)}


PAGE_SIZE = 50


def order_listing(
    status: Annotated[str, Query(max_length=20)] = "",
    channel: Annotated[str, Query(max_length=40)] = "",
    payment: Annotated[str, Query(max_length=20)] = "",
    placed_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    placed_to: Annotated[str, Query(alias="to", max_length=10, description="Inclusive.")] = "",
    q: Annotated[str, Query(max_length=254)] = "",
    sort: Annotated[Sort, Query()] = "newest",
) -> OrderQuery:
    """The orders list's form as a query; empty fields filter nothing; dates are whole UTC days."""
    first, last = day_or_none(placed_from), day_or_none(placed_to)
    return OrderQuery(
        status=status or None,
        channel=channel or None,
        payment_status=payment or None,
        placed_from=reads.day_start(first) if first else None,
        placed_to=reads.day_start(last + timedelta(days=1)) if last else None,
        search=q.strip() or None,
        sort=sort,
    )


def day_or_none(field: str) -> date | None:
    """A form's date (an empty field, as browsers send it, or one not a date: no bound)."""
    try:
        return date.fromisoformat(field) if field else None
    except ValueError:
        return None


Listing = Annotated[OrderQuery, Depends(order_listing)]


@router.get("/orders", response_class=HTMLResponse)
def orders(
    request: Request,
    context: Context,
    session: CurrentSession,
    listing: Listing,
    after: Annotated[str, Query(max_length=300)] = "",
) -> HTMLResponse:
    """The orders, filtered, searched (part of an id, reference, email or name) and sorted, a keyset page at a time."""
    try:
        found = context.read_model.order_page(listing, PAGE_SIZE, after or None)
    except BadCursor:
        found = context.read_model.order_page(listing, PAGE_SIZE)
    form = {key: value for key, value in request.query_params.items() if key != "after"}
    return page(
        request,
        "orders.html",
        session,
        found=found,
        form=form,
        statuses=STATUSES,
        payment_statuses=PAYMENT_STATUSES,
        sorts=SORTS,
        next_url=f"/dashboard/orders?{urlencode({**form, 'after': found.next_cursor})}" if found.next_cursor else "",
        csv_url=f"/dashboard/orders.csv?{urlencode(form)}",
        first_url=f"/dashboard/orders?{urlencode(form)}" if after else "",
    )


@router.get("/orders.csv")
def orders_csv(context: Context, session: CurrentSession, listing: Listing) -> StreamingResponse:
    """Every order the list's filters match, as CSV."""
    lines = views.orders_csv(context.read_model.every_order(listing))
    disposition = {"Content-Disposition": 'attachment; filename="orders.csv"'}
    return StreamingResponse(lines, media_type="text/csv; charset=utf-8", headers=disposition)


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
def inventory(
    request: Request, context: Context, session: CurrentSession, query: Annotated[StockQuery, Depends(stock_listing)]
) -> HTMLResponse:
    """Stock per sku, searched and sorted; the reorder suggestions and the receipt form's skus from every sku."""
    shown, matched = stock_table(context.read_model, query)
    # read after the table: a sku the table shows low is among the suggestions, though the view moves in between
    every_sku = reads.stock_levels(context.read_model)
    return page(
        request,
        "inventory.html",
        session,
        stock=shown,
        matched=matched,
        query=query,
        sort_links={column: urlencode(sort_link(query, column)) for column in STOCK_SORTS},
        every_sku=every_sku,
        suggestions=reads.reorder_suggestions(context.read_model, every_sku),
        nonce=uuid4().hex,
        sku=request.query_params.get("sku", ""),
    )


@router.get("/feed", response_class=HTMLResponse)
def feed(request: Request, context: Context, session: CurrentSession) -> HTMLResponse:
    """Shipments and notifications, newest first, from the order timelines."""
    entries = reads.views_of(context.read_model).feed(FEED_SIZE)
    return page(request, "feed.html", session, entries=entries)


@router.get("/analytics", response_class=HTMLResponse)
def analytics(
    request: Request, context: Context, session: CurrentSession, days: Annotated[int, Query(ge=1, le=90)] = 14
) -> HTMLResponse:
    today = context.clock().date()
    span = [today - timedelta(days=days - 1 - i) for i in range(days)]
    views = reads.views_of(context.read_model)
    units = reads.units_by_day_and_channel(views.sales(span[0], today), span)
    histogram = views.time_to_ship(reads.day_start(span[0]))
    rates = views.rates(span[0], today)
    rate_values = [100 * (rates[key] or 0) for key in ("backorder_rate", "cancellation_rate")]
    return page(
        request,
        "analytics.html",
        session,
        days=days,
        rates=rates,
        sales_chart=charts.bar_chart([f"{day:%m-%d}" for day in span], units),
        shipping_chart=charts.bar_chart([b.label for b in histogram], {"orders": [b.orders for b in histogram]}),
        rates_chart=charts.bar_chart(["backordered", "cancelled"], {"rate": rate_values}, unit="%"),
    )
