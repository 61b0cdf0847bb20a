"""The orders view's analytics as typed rows: order rates and processing times (sales: `sales_queries`).

Every count, sum and percentile is computed in SQL over the whole view. Percentiles are nearest-rank (the smallest
value with at least that share of the values at or below it), by `ROW_NUMBER()` over each day and channel: the
same SQL on SQLite (which has no percentile function) and PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypedDict, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Float,
    Integer,
    Select,
    case,
    extract,
    func,
    literal,
    select,
    true,
)

from projections.tables import orders

MAX_LIMIT = 1000
STAGES: dict[str, tuple[str, str]] = {
    "placed_to_confirmed": ("placed_at", "confirmed_at"),
    "confirmed_to_shipped": ("confirmed_at", "shipped_at"),
    "placed_to_delivered": ("placed_at", "delivered_at"),
}
SHARES = {"p50": (50, 100), "p95": (95, 100), "p99": (99, 100)}
"""Each percentile as a fraction, so that its rank ceil(share * n) is integer arithmetic on both backends."""


class Rates(TypedDict):
    orders: int
    backorder_rate: float | None
    cancellation_rate: float | None
    fill_rate: float | None


class StageTimes(TypedDict):
    count: int
    p50: float | None
    p95: float | None
    p99: float | None


class ProcessingTimes(TypedDict):
    """Seconds of each stage of the orders placed on `day` through `channel`."""

    day: date
    channel: str
    placed_to_confirmed: StageTimes
    confirmed_to_shipped: StageTimes
    placed_to_delivered: StageTimes


# --- rates ----------------------------------------------------------------------------------------------------------


def placed_between(day_from: date | None, day_to: date | None, channel: str | None) -> list[ColumnElement[bool]]:
    """Orders placed on the days `day_from` to `day_to` (inclusive, UTC) through `channel`."""
    o = orders.c
    where: list[ColumnElement[bool]] = [o.placed_at.is_not(None)]
    if day_from:
        where.append(o.placed_at >= datetime.combine(day_from, time.min, tzinfo=UTC))
    if day_to:
        where.append(o.placed_at < datetime.combine(day_to + timedelta(days=1), time.min, tzinfo=UTC))
    if channel:
        where.append(o.channel == channel)
    return where


def rates(
    conn: Connection, *, day_from: date | None = None, day_to: date | None = None, channel: str | None = None
) -> Rates:
    """Backorder rate (orders ever backordered), cancellation rate, and fill rate (share of ordered
    units reserved without waiting for stock), over orders placed in the range; counted in SQL."""
    o = orders.c
    where = placed_between(day_from, day_to, channel)
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
        qty = lines.c.value.op("->>")("qty").cast(Integer)
    else:
        lines = func.json_each(orders.c.lines).table_valued("value")
        qty = func.json_extract(lines.c.value, "$.qty").cast(Integer)
    query = select(func.coalesce(func.sum(qty), 0)).select_from(orders).join(lines, true()).where(*where)
    return int(conn.execute(query).scalar_one())


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


# --- processing times -----------------------------------------------------------------------------------------------


def processing_times(
    conn: Connection, *, day_from: date | None = None, day_to: date | None = None, channel: str | None = None
) -> list[ProcessingTimes]:
    """Per day (placed, UTC) and channel: count and p50/p95/p99 seconds of placed->confirmed, confirmed->shipped and
    placed->delivered, over the whole orders view; a stage no order reached has a count of 0 and no percentiles."""
    where = placed_between(day_from, day_to, channel)
    report: dict[tuple[date, str], dict[str, Any]] = {}
    for stage, (start, end) in STAGES.items():
        for day, chan, count, p50, p95, p99 in conn.execute(_stage_percentiles(conn, start, end, where)):
            entry = report.setdefault((_as_date(day), chan), {"day": _as_date(day), "channel": chan})
            entry[stage] = StageTimes(count=count, p50=p50, p95=p95, p99=p99)
    for entry in report.values():
        for stage in STAGES:
            entry.setdefault(stage, StageTimes(count=0, p50=None, p95=None, p99=None))
    return [cast(ProcessingTimes, report[key]) for key in sorted(report)]


def _stage_percentiles(conn: Connection, start: str, end: str, where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """One row per day and channel: how many orders went from `start` to `end`, and the nearest-rank percentiles of
    the seconds it took, each the value ranked ceil(share * count) within its day and channel."""
    o = orders.c
    day = _utc_day(conn, o.placed_at).label("day")
    seconds = _seconds_between(conn, o[start], o[end]).label("seconds")
    group = (day, o.channel)
    ranked = (
        select(day, o.channel, seconds)
        .add_columns(
            func.row_number().over(partition_by=group, order_by=seconds).label("rank"),
            func.count().over(partition_by=group).label("n"),
        )
        .where(*where, o[start].is_not(None), o[end].is_not(None))
        .subquery()
    )
    r = ranked.c
    picks = [
        func.max(case((r.rank == (r.n * part + whole - 1) // whole, r.seconds))).label(name)
        for name, (part, whole) in SHARES.items()
    ]
    return select(r.day, r.channel, func.count(), *picks).group_by(r.day, r.channel).order_by(r.day, r.channel)


def _utc_day(conn: Connection, moment: ColumnElement[Any]) -> ColumnElement[Any]:
    if conn.dialect.name == "postgresql":
        return func.timezone("UTC", moment).cast(Date)
    return func.date(moment)  # SQLite keeps UTC instants naive


def _seconds_between(conn: Connection, start: ColumnElement[Any], end: ColumnElement[Any]) -> ColumnElement[Any]:
    if conn.dialect.name == "postgresql":
        return extract("epoch", end - start).cast(Float)
    # SQLite's date functions keep milliseconds: whole seconds from them, microseconds from the stored text
    # (`YYYY-MM-DD HH:MM:SS.ffffff`), as one count of microseconds divided once, as timedelta.total_seconds() does
    whole = _whole_seconds(end) - _whole_seconds(start)
    micro = func.substr(end, 21).cast(Integer) - func.substr(start, 21).cast(Integer)
    return (whole * 1_000_000 + micro) / literal(1_000_000.0)


def _whole_seconds(moment: ColumnElement[Any]) -> ColumnElement[int]:
    """Seconds since 1970 of a SQLite instant, the fraction cut off first (SQLite rounds it to milliseconds, which
    carried 12.9996 s over to 13)."""
    return func.strftime("%s", func.substr(moment, 1, 19)).cast(Integer)


def _as_date(day: date | str) -> date:
    return day if isinstance(day, date) else date.fromisoformat(day)


def percentile(sorted_values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile of already sorted values: what `processing_times` computes in SQL, for checking it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]
