"""The ops overview's numbers, each one SQL aggregate over the whole orders view: orders per minute, orders per
status, the time to ship, today's takings and the stuck orders. Typed rows out; no list is capped before it is
counted (a stuck list shows its most overdue orders first and says how many there are in all).

Processing time starts when the system received the order: the time of the placement event the view applied
(`orders.placed_event_id` -> its `order_timeline` row, stamped by the intake), not the channel's `placed_at`, which
may be hours older. An order whose placement row the view lacks falls back to `placed_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Connection, Float, case, cast, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from projections.order_progress import STATUSES
from projections.stuck_queries import Stuck as Stuck
from projections.stuck_queries import StuckList as StuckList
from projections.stuck_queries import StuckOrder as StuckOrder
from projections.stuck_queries import StuckRules as StuckRules
from projections.stuck_queries import received_at, stuck_orders, with_receipt
from projections.tables import orders

MONEY_SCALE = 10_000
"""Amounts have at most 4 decimals (events.base.Money): summed as integers of 1/10,000, exact on every backend."""

# --- SQL the two backends spell differently ----------------------------------------------------------------------


class epoch_seconds(FunctionElement[float]):
    """Seconds since 1970 of a UTC timestamp column, with the fraction."""

    type = Float()
    inherit_cache = True
    name = "epoch_seconds"


class epoch_minute(FunctionElement[int]):
    """Whole minutes since 1970 of a UTC timestamp column: exact, for grouping by minute."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_minute"


@compiles(epoch_seconds, "sqlite")
def _sqlite_epoch_seconds(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds, "postgresql")
def _pg_epoch_seconds(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"


@compiles(epoch_minute, "sqlite")
def _sqlite_epoch_minute(element: epoch_minute, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER) / 60)"


@compiles(epoch_minute, "postgresql")
def _pg_epoch_minute(element: epoch_minute, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) / 60) AS BIGINT)"


def money_sum(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The exact sum of a decimal-string money column, in 1/10,000 units (NULL counts as 0)."""
    scaled = func.round(cast(func.coalesce(column, "0"), Float) * MONEY_SCALE)
    return func.coalesce(func.sum(cast(scaled, BigInteger)), 0)


def as_money(scaled: int) -> Decimal:
    return (Decimal(int(scaled)) / MONEY_SCALE).quantize(Decimal("0.0001")).normalize() + Decimal("0.00")


# --- orders per minute and per status -------------------------------------------------------------------------


@dataclass(frozen=True)
class MinuteCount:
    minute: datetime
    orders: int


def orders_per_minute(conn: Connection, first: datetime, minutes: int) -> list[MinuteCount]:
    """Orders placed in each minute from `first` (a whole minute) on, `minutes` of them, zeros included."""
    end = first + timedelta(minutes=minutes)
    minute = epoch_minute(orders.c.placed_at)
    query = select(minute, func.count()).where(orders.c.placed_at >= first, orders.c.placed_at < end).group_by(minute)
    counts = {int(at): int(n) for at, n in conn.execute(query)}
    start = int(first.timestamp()) // 60
    return [MinuteCount(first + timedelta(minutes=i), counts.get(start + i, 0)) for i in range(minutes)]


@dataclass(frozen=True)
class StatusCount:
    status: str
    orders: int


def status_counts(conn: Connection) -> list[StatusCount]:
    """Orders per status, every status of the view in its usual order (zeros included)."""
    query = select(orders.c.status, func.count()).where(orders.c.status.is_not(None)).group_by(orders.c.status)
    counts = {status: int(n) for status, n in conn.execute(query)}
    return [StatusCount(status, counts.get(status, 0)) for status in STATUSES]


# --- time to ship ---------------------------------------------------------------------------------------------

DURATION_BUCKETS: tuple[tuple[str, timedelta], ...] = (
    ("< 1 min", timedelta(minutes=1)),
    ("1-5 min", timedelta(minutes=5)),
    ("5-15 min", timedelta(minutes=15)),
    ("15-60 min", timedelta(hours=1)),
    ("1-4 h", timedelta(hours=4)),
    ("4-24 h", timedelta(days=1)),
    ("1-3 d", timedelta(days=3)),
)
LAST_BUCKET = "> 3 d"


@dataclass(frozen=True)
class DurationBucket:
    label: str
    orders: int


def time_to_ship(conn: Connection, placed_from: datetime, placed_to: datetime | None = None) -> list[DurationBucket]:
    """Orders placed in [placed_from, placed_to) that shipped, by how long they took from receipt to the first
    parcel leaving; every bucket, zeros included."""
    took = epoch_seconds(orders.c.shipped_at) - epoch_seconds(received_at())
    limits = [(took < limit.total_seconds(), index) for index, (_, limit) in enumerate(DURATION_BUCKETS)]
    bucket = case(*limits, else_=len(DURATION_BUCKETS))
    query = with_receipt(select(bucket, func.count())).where(
        orders.c.shipped_at.is_not(None), orders.c.placed_at >= placed_from
    )
    if placed_to is not None:
        query = query.where(orders.c.placed_at < placed_to)
    counts = {int(index): int(n) for index, n in conn.execute(query.group_by(bucket))}
    return [DurationBucket(b.label, counts.get(index, 0)) for index, b in enumerate(time_to_ship_of_nothing())]


def time_to_ship_of_nothing() -> list[DurationBucket]:
    return [DurationBucket(label, 0) for label in (*(label for label, _ in DURATION_BUCKETS), LAST_BUCKET)]


# --- takings ---------------------------------------------------------------------------------------------------

GROSS_MEANS = "money captured on the orders placed since 00:00 UTC"
NET_MEANS = "gross less what was refunded on those orders (cancellations, returns, overpayments)"


@dataclass(frozen=True)
class Takings:
    currency: str
    orders: int
    gross: Decimal
    refunded: Decimal

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunded


def takings(conn: Connection, placed_from: datetime, placed_to: datetime | None = None) -> list[Takings]:
    """Per currency, over the orders placed in [placed_from, placed_to): captured (gross), refunded, and net.
    Unpaid orders captured nothing; a cancelled order's refund takes its capture back."""
    query = (
        select(
            orders.c.currency, func.count(), money_sum(orders.c.captured_amount), money_sum(orders.c.refunded_amount)
        )
        .where(orders.c.placed_at >= placed_from, orders.c.currency.is_not(None))
        .group_by(orders.c.currency)
        .order_by(orders.c.currency)
    )
    if placed_to is not None:
        query = query.where(orders.c.placed_at < placed_to)
    return [
        Takings(currency, int(n), as_money(gross), as_money(back)) for currency, n, gross, back in conn.execute(query)
    ]


def utc_minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


# --- the overview at once --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    per_minute: list[MinuteCount]
    statuses: list[StatusCount]
    today: list[Takings]
    stuck: Stuck

    @property
    def orders(self) -> int:
        return sum(status.orders for status in self.statuses)

    @property
    def this_minute(self) -> int:
        return self.per_minute[-1].orders if self.per_minute else 0

    @property
    def orders_today(self) -> int:
        return sum(currency.orders for currency in self.today)


def overview(conn: Connection, now: datetime, rules: StuckRules, minutes: int = 30) -> Overview:
    """The per-minute counts of the last `minutes` (the current minute last), the status counts, today's takings
    (since 00:00 UTC) and the stuck orders, as of `now`."""
    current = utc_minute(now)
    midnight = current.replace(hour=0, minute=0)
    return Overview(
        per_minute=orders_per_minute(conn, current - timedelta(minutes=minutes - 1), minutes),
        statuses=status_counts(conn),
        today=takings(conn, midnight),
        stuck=stuck_orders(conn, now, rules),
    )


def empty_overview(now: datetime, rules: StuckRules, minutes: int = 30) -> Overview:
    """What an empty view shows (before the projections created their tables)."""
    first = utc_minute(now) - timedelta(minutes=minutes - 1)
    return Overview(
        per_minute=[MinuteCount(first + timedelta(minutes=i), 0) for i in range(minutes)],
        statuses=[StatusCount(status, 0) for status in STATUSES],
        today=[],
        stuck=Stuck(*(StuckList(label, 0, []) for label in rules.labels())),
    )
