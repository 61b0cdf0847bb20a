"""Read side: plain functions over the views, with filters and pagination.

The HTTP API, the dashboard and the CLI call these with a SQLAlchemy `Connection`. Every function
returns plain dicts (JSON-ready apart from datetimes, dates and money kept as decimal strings).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, Select, case, cast, func, select, true

from projections.tables import customers, inventory, order_timeline, orders, sales_daily

Row = dict[str, Any]

MAX_LIMIT = 1000
MAX_OFFSET = 2**63 - 1
"""SQLite and PostgreSQL bind 64-bit integers; no view holds that many rows, so a larger offset means the same."""
STAGES: dict[str, tuple[str, str]] = {
    "placed_to_confirmed": ("placed_at", "confirmed_at"),
    "confirmed_to_shipped": ("confirmed_at", "shipped_at"),
    "placed_to_delivered": ("placed_at", "delivered_at"),
}


def _page(query: Select[Any], limit: int, offset: int) -> Select[Any]:
    return query.limit(max(0, min(limit, MAX_LIMIT))).offset(max(0, min(offset, MAX_OFFSET)))


def _rows(conn: Connection, query: Select[Any]) -> list[Row]:
    return [dict(row) for row in conn.execute(query).mappings()]


# --- orders ---------------------------------------------------------------------------------


def _order_filters(
    query: Select[Any],
    status: str | None,
    channel: str | None,
    customer: str | None,
    placed_from: datetime | None,
    placed_to: datetime | None,
) -> Select[Any]:
    if status:
        query = query.where(orders.c.status == status)
    if channel:
        query = query.where(orders.c.channel == channel)
    if customer:
        query = query.where(orders.c.customer_email == customer)
    if placed_from:
        query = query.where(orders.c.placed_at >= placed_from)
    if placed_to:
        query = query.where(orders.c.placed_at < placed_to)
    return query


def list_orders(
    conn: Connection,
    *,
    status: str | None = None,
    channel: str | None = None,
    customer: str | None = None,
    placed_from: datetime | None = None,
    placed_to: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Row]:
    """Orders, newest first. `customer` is an email; the date range is [placed_from, placed_to)."""
    query = _order_filters(select(orders), status, channel, customer, placed_from, placed_to)
    query = query.order_by(orders.c.placed_at.desc(), orders.c.order_id)
    return _rows(conn, _page(query, limit, offset))


def count_orders(
    conn: Connection,
    *,
    status: str | None = None,
    channel: str | None = None,
    customer: str | None = None,
    placed_from: datetime | None = None,
    placed_to: datetime | None = None,
) -> int:
    query = _order_filters(select(func.count()).select_from(orders), status, channel, customer, placed_from, placed_to)
    return int(conn.execute(query).scalar_one())


def get_order(conn: Connection, order_id: str) -> Row | None:
    """One order with its `timeline`, or None."""
    found = conn.execute(select(orders).where(orders.c.order_id == order_id)).mappings().first()
    if found is None:
        return None
    return {**dict(found), "timeline": order_events(conn, order_id)}


def order_events(conn: Connection, order_id: str) -> list[Row]:
    """Every event of an order, in order (time, then log position)."""
    query = (
        select(order_timeline)
        .where(order_timeline.c.order_id == order_id)
        .order_by(order_timeline.c.time, order_timeline.c.topic, order_timeline.c.partition, order_timeline.c.offset)
    )
    return _rows(conn, query)


def refused_placements(conn: Connection, order_id: str) -> list[Row]:
    """The timeline rows of placements of `order_id` the order processor dead-lettered: why it is no order."""
    t = order_timeline.c
    query = select(order_timeline).where(t.order_id == order_id, t.type == "oms.order.placed", t.dead_lettered)
    return _rows(conn, query.order_by(t.time, t.topic, t.partition, t.offset))


# --- inventory ------------------------------------------------------------------------------


def list_inventory(
    conn: Connection, *, low_only: bool = False, sku_prefix: str | None = None, limit: int = 100, offset: int = 0
) -> list[Row]:
    query = select(inventory)
    if low_only:
        query = query.where(inventory.c.is_low.is_(True))
    if sku_prefix:
        query = query.where(inventory.c.sku.startswith(sku_prefix, autoescape=True))
    return _rows(conn, _page(query.order_by(inventory.c.sku), limit, offset))


def get_sku(conn: Connection, sku: str) -> Row | None:
    found = conn.execute(select(inventory).where(inventory.c.sku == sku)).mappings().first()
    return dict(found) if found else None


def inventory_report(conn: Connection) -> Row:
    """Totals across every sku, and the skus that need a reorder."""
    totals = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(inventory.c.on_hand), 0),
            func.coalesce(func.sum(inventory.c.reserved), 0),
            func.coalesce(func.sum(inventory.c.incoming_qty), 0),
            func.coalesce(func.sum(inventory.c.backordered_qty), 0),
        )
    ).one()
    to_reorder = _rows(
        conn,
        select(inventory.c.sku, inventory.c.available, inventory.c.suggested_reorder_qty)
        .where(inventory.c.suggested_reorder_qty > 0)
        .order_by(inventory.c.sku),
    )
    skus, on_hand, reserved, incoming, backordered = (int(v) for v in totals)
    low = int(
        conn.execute(select(func.count()).select_from(inventory).where(inventory.c.is_low.is_(True))).scalar_one()
    )
    return {
        "skus": skus,
        "on_hand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
        "incoming": incoming,
        "backordered": backordered,
        "low": low,
        "to_reorder": to_reorder,
    }


# --- customers ------------------------------------------------------------------------------


def list_customers(conn: Connection, *, channel: str | None = None, limit: int = 50, offset: int = 0) -> list[Row]:
    """Customers, most recent order first. `channel` keeps those who ordered through it."""
    query = select(customers).order_by(customers.c.last_order_at.desc(), customers.c.customer_key)
    if channel is None:
        return _rows(conn, _page(query, limit, offset))
    matching = [row for row in _rows(conn, query) if channel in row["channels"]]  # JSON: filtered here
    return matching[max(0, offset) : max(0, offset) + max(0, min(limit, MAX_LIMIT))]


def get_customer(conn: Connection, customer_key: str, recent: int = 10) -> Row | None:
    """A customer (their email, or `walk-in:<order id>` for a till sale without one) with their latest orders."""
    found = conn.execute(select(customers).where(customers.c.customer_key == customer_key)).mappings().first()
    if found is None:
        return None
    latest = select(orders).where(orders.c.customer_key == customer_key)
    latest = latest.order_by(orders.c.placed_at.desc(), orders.c.order_id).limit(max(0, min(recent, MAX_LIMIT)))
    return {**dict(found), "recent_orders": _rows(conn, latest)}


# --- analytics ------------------------------------------------------------------------------


def sales(
    conn: Connection,
    *,
    day_from: date | None = None,
    day_to: date | None = None,
    channel: str | None = None,
    sku: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[Row]:
    """Sales per day x channel x sku (gross: placed; `cancelled_units` given back), days inclusive."""
    query = select(sales_daily)
    if day_from:
        query = query.where(sales_daily.c.day >= day_from)
    if day_to:
        query = query.where(sales_daily.c.day <= day_to)
    if channel:
        query = query.where(sales_daily.c.channel == channel)
    if sku:
        query = query.where(sales_daily.c.sku == sku)
    order = (sales_daily.c.day, sales_daily.c.channel, sales_daily.c.sku, sales_daily.c.currency)
    return _rows(conn, _page(query.order_by(*order), limit, offset))


def all_sales(conn: Connection, day_from: date | None, day_to: date | None) -> Iterator[Row]:
    """Every sales row in the days, page by page (`sales` caps a page)."""
    offset = 0
    while True:
        page = sales(conn, day_from=day_from, day_to=day_to, limit=MAX_LIMIT, offset=offset)
        yield from page
        if len(page) < MAX_LIMIT:
            return
        offset += len(page)


def percentile(sorted_values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


def _order_times(conn: Connection, day_from: date | None, day_to: date | None, channel: str | None) -> Iterable[Row]:
    columns = [orders.c.channel, orders.c.status, orders.c.backordered_at, orders.c.backordered_units]
    columns += [orders.c.lines, orders.c.placed_at, orders.c.confirmed_at, orders.c.shipped_at, orders.c.delivered_at]
    query = select(*columns).where(orders.c.placed_at.is_not(None))
    if day_from:
        query = query.where(orders.c.placed_at >= datetime.combine(day_from, time.min, tzinfo=UTC))
    if channel:
        query = query.where(orders.c.channel == channel)
    for row in conn.execute(query).mappings():
        if day_from and row["placed_at"].date() < day_from:
            continue
        if day_to and row["placed_at"].date() > day_to:
            continue
        yield dict(row)


def processing_times(
    conn: Connection, *, day_from: date | None = None, day_to: date | None = None, channel: str | None = None
) -> list[Row]:
    """Per day (placed) and channel: p50/p95/p99 seconds of placed->confirmed, confirmed->shipped,
    placed->delivered, computed from the orders view at query time."""
    durations: dict[tuple[date, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in _order_times(conn, day_from, day_to, channel):
        bucket = durations[(row["placed_at"].date(), row["channel"])]
        for stage, (start, end) in STAGES.items():
            if row[start] is not None and row[end] is not None:
                bucket[stage].append((row[end] - row[start]).total_seconds())
    report = []
    for (day, chan), stages in sorted(durations.items()):
        entry: Row = {"day": day, "channel": chan}
        for stage in STAGES:
            values = sorted(stages.get(stage, []))
            entry[stage] = {
                "count": len(values),
                "p50": percentile(values, 0.50),
                "p95": percentile(values, 0.95),
                "p99": percentile(values, 0.99),
            }
        report.append(entry)
    return report


def rates(
    conn: Connection, *, day_from: date | None = None, day_to: date | None = None, channel: str | None = None
) -> Row:
    """Backorder rate (orders ever backordered), cancellation rate, and fill rate (share of ordered
    units reserved without waiting for stock), over orders placed in the range; counted in SQL."""
    o = orders.c
    where: list[ColumnElement[bool]] = [o.placed_at.is_not(None)]
    if day_from:
        where.append(o.placed_at >= datetime.combine(day_from, time.min, tzinfo=UTC))
    if day_to:
        where.append(o.placed_at < datetime.combine(day_to + timedelta(days=1), time.min, tzinfo=UTC))
    if channel:
        where.append(o.channel == channel)
    cancelled = func.sum(case((o.status == "cancelled", 1), else_=0))
    waited = func.sum(func.coalesce(o.backordered_units, 0))
    counted = select(func.count(), func.count(o.backordered_at), cancelled, waited).where(*where)
    placed, backordered, cancelled_n, waited_n = (int(n or 0) for n in conn.execute(counted).one())
    units = _ordered_units(conn, where)
    return {
        "orders": placed,
        "backorder_rate": _ratio(backordered, placed),
        "cancellation_rate": _ratio(cancelled_n, placed),
        "fill_rate": _ratio(units - waited_n, units),
    }


def _ordered_units(conn: Connection, where: Sequence[ColumnElement[bool]]) -> int:
    """The `qty` of every line of the orders `where` holds: `orders.lines` (a JSON array) joined in as rows, each
    backend its way (PostgreSQL laterally, SQLite's json_each sees the row before it)."""
    if conn.dialect.name == "postgresql":
        lines = func.json_array_elements(orders.c.lines).table_valued("value").lateral()
        qty = cast(lines.c.value.op("->>")("qty"), Integer)
    else:
        lines = func.json_each(orders.c.lines).table_valued("value")
        qty = cast(func.json_extract(lines.c.value, "$.qty"), Integer)
    query = select(func.coalesce(func.sum(qty), 0)).select_from(orders).join(lines, true()).where(*where)
    return int(conn.execute(query).scalar_one())


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def revenue_total(rows: Iterable[Row]) -> dict[str, str]:
    """Sum the `revenue` of sales rows per currency, exactly."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row["currency"]] += Decimal(row["revenue"])
    return {currency: format(total, "f") for currency, total in sorted(totals.items())}
