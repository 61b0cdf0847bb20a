"""The sales view as typed rows, and the sales summary the API's analytics answer: every sum in SQL over the view.

Revenue is summed exactly as integers of 1/10,000 (`overview_queries.money_sum`) and given back per currency in
its minor units.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypedDict, cast

from sqlalchemy import ColumnElement, Connection, func, select

from projections.money import in_minor_units
from projections.overview_queries import as_money, money_sum
from projections.tables import orders, sales_daily

MAX_LIMIT = 1000
TOP_SKUS = 10


class SalesRow(TypedDict):
    """One day x channel x sku x currency of sales: gross (placed), `cancelled_units` given back."""

    day: date
    channel: str
    sku: str
    currency: str
    orders: int
    units: int
    revenue: str
    cancelled_units: int


class Amount(TypedDict):
    currency: str
    amount: Decimal


class ChannelSales(TypedDict):
    channel: str
    orders: int
    units: int
    revenue: list[Amount]


class SkuSales(TypedDict):
    sku: str
    units: int
    revenue: list[Amount]


class SalesSummary(TypedDict):
    """Gross units and revenue per currency over the days, by channel and for the top skus by units; `orders` are
    the orders placed in `[placed_from, placed_to)` through the channels that sold."""

    orders: int
    units: int
    cancelled_units: int
    revenue: list[Amount]
    by_channel: list[ChannelSales]
    top_skus: list[SkuSales]


class SalesReport(SalesSummary):
    """A summary with the range it covers: whole UTC days, `until` exclusive."""

    since: datetime | None
    until: datetime | None


def sales_filters(
    day_from: date | None, day_to: date | None, channel: str | None = None, sku: str | None = None
) -> list[ColumnElement[bool]]:
    s = sales_daily.c
    where: list[ColumnElement[bool]] = []
    if day_from:
        where.append(s.day >= day_from)
    if day_to:
        where.append(s.day <= day_to)
    if channel:
        where.append(s.channel == channel)
    if sku:
        where.append(s.sku == sku)
    return where


def sales(
    conn: Connection,
    *,
    day_from: date | None = None,
    day_to: date | None = None,
    channel: str | None = None,
    sku: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[SalesRow]:
    """Sales per day x channel x sku (gross: placed; `cancelled_units` given back), days inclusive."""
    s = sales_daily.c
    query = select(sales_daily).where(*sales_filters(day_from, day_to, channel, sku))
    query = query.order_by(s.day, s.channel, s.sku, s.currency)
    query = query.limit(max(0, min(limit, MAX_LIMIT))).offset(max(0, offset))
    return [cast(SalesRow, dict(row)) for row in conn.execute(query).mappings()]


def all_sales(conn: Connection, day_from: date | None, day_to: date | None) -> Iterator[SalesRow]:
    """Every sales row in the days, page by page (`sales` caps a page)."""
    offset = 0
    while True:
        page = sales(conn, day_from=day_from, day_to=day_to, limit=MAX_LIMIT, offset=offset)
        yield from page
        if len(page) < MAX_LIMIT:
            return
        offset += len(page)


def revenue_total(rows: Iterable[SalesRow]) -> dict[str, str]:
    """Sum the `revenue` of sales rows per currency, exactly (money is a decimal string in the view)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row["currency"]] += Decimal(row["revenue"])
    return {currency: format(total, "f") for currency, total in sorted(totals.items())}


class DayUnits(TypedDict):
    day: date
    channel: str
    units: int


def units_by_day_and_channel(conn: Connection, day_from: date, day_to: date) -> list[DayUnits]:
    """Units placed per day and channel over the days (inclusive), summed in SQL; days without sales are absent."""
    s = sales_daily.c
    query = select(s.day, s.channel, func.sum(s.units)).where(*sales_filters(day_from, day_to))
    query = query.group_by(s.day, s.channel).order_by(s.day, s.channel)
    return [{"day": day, "channel": channel, "units": int(units)} for day, channel, units in conn.execute(query)]


# --- the summary ----------------------------------------------------------------------------------------------------


def sales_summary(
    conn: Connection,
    day_from: date | None,
    day_to: date | None,
    placed_from: datetime | None = None,
    placed_to: datetime | None = None,
) -> SalesSummary:
    """Sales over the days `day_from` to `day_to` (inclusive); orders placed in `[placed_from, placed_to)`."""
    where = sales_filters(day_from, day_to)
    s = sales_daily.c
    units, cancelled = conn.execute(
        select(func.coalesce(func.sum(s.units), 0), func.coalesce(func.sum(s.cancelled_units), 0)).where(*where)
    ).one()
    channels = _units_by(conn, s.channel, where)
    ordered = _orders_by_channel(conn, list(channels), placed_from, placed_to)
    channel_revenue = _revenue_by(conn, s.channel, where)
    top = _top_skus(conn, where)
    sku_revenue = _revenue_by(conn, s.sku, [*where, s.sku.in_(list(top))]) if top else {}
    return {
        "orders": sum(ordered.values()),
        "units": int(units),
        "cancelled_units": int(cancelled),
        "revenue": _revenue_by(conn, None, where).get("", []),
        "by_channel": [
            {"channel": c, "orders": ordered.get(c, 0), "units": n, "revenue": channel_revenue.get(c, [])}
            for c, n in sorted(channels.items())
        ],
        "top_skus": [{"sku": sku, "units": n, "revenue": sku_revenue.get(sku, [])} for sku, n in top.items()],
    }


def _units_by(conn: Connection, key: ColumnElement[str], where: Sequence[ColumnElement[bool]]) -> dict[str, int]:
    query = select(key, func.sum(sales_daily.c.units)).where(*where).group_by(key)
    return {name: int(units) for name, units in conn.execute(query)}


def _top_skus(conn: Connection, where: Sequence[ColumnElement[bool]]) -> dict[str, int]:
    """The skus that sold the most units (ties by sku), most first."""
    units = func.sum(sales_daily.c.units)
    query = select(sales_daily.c.sku, units).where(*where).group_by(sales_daily.c.sku)
    query = query.order_by(units.desc(), sales_daily.c.sku).limit(TOP_SKUS)
    return {sku: int(n) for sku, n in conn.execute(query)}


def _revenue_by(
    conn: Connection, key: ColumnElement[str] | None, where: Sequence[ColumnElement[bool]]
) -> dict[str, list[Amount]]:
    """Revenue per currency for each value of `key` (all under "" without one), currencies in order."""
    s = sales_daily.c
    keys: list[ColumnElement[Any]] = [key] if key is not None else []
    query = select(*keys, s.currency, money_sum(s.revenue)).where(*where).group_by(*keys, s.currency)
    found: dict[str, list[Amount]] = defaultdict(list)
    for *name, currency, scaled in conn.execute(query.order_by(*keys, s.currency)):
        amount = Decimal(in_minor_units(as_money(scaled), currency))
        found[name[0] if name else ""].append({"currency": currency, "amount": amount})
    return found


def _orders_by_channel(
    conn: Connection, channels: Sequence[str], placed_from: datetime | None, placed_to: datetime | None
) -> dict[str, int]:
    o = orders.c
    where: list[ColumnElement[bool]] = [o.channel.in_(channels)]
    if placed_from:
        where.append(o.placed_at >= placed_from)
    if placed_to:
        where.append(o.placed_at < placed_to)
    query = select(o.channel, func.count()).where(*where).group_by(o.channel)
    return {channel: int(n) for channel, n in conn.execute(query)} if channels else {}


def no_sales() -> SalesSummary:
    """The summary of an empty view."""
    return {"orders": 0, "units": 0, "cancelled_units": 0, "revenue": [], "by_channel": [], "top_skus": []}
