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

from sqlalchemy import BigInteger, ColumnElement, Connection, Float, Select, and_, case, cast, func, null, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from projections.order_progress import STATUSES
from projections.tables import order_timeline, orders

MONEY_SCALE = 10_000
"""Amounts have at most 4 decimals (events.base.Money): summed as integers of 1/10,000, exact on every backend."""
STUCK_SHOWN = 50

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


def received_at() -> ColumnElement[datetime]:
    """When the system received the order (its placement event's time), else the channel's `placed_at`."""
    return func.coalesce(order_timeline.c.time, orders.c.placed_at)


def with_receipt(query: Select[Any]) -> Select[Any]:
    return query.select_from(orders.outerjoin(order_timeline, order_timeline.c.event_id == orders.c.placed_event_id))


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


# --- stuck orders ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StuckRules:
    """How long an order may wait at each step before ops should look at it."""

    awaiting_payment: timedelta = timedelta(minutes=15)
    unshipped: timedelta = timedelta(hours=24)
    backordered_without_eta: timedelta = timedelta(hours=1)

    @classmethod
    def beside(cls, payment_timeout: timedelta) -> StuckRules:
        """Defaults for a pipeline that cancels unpaid orders after `payment_timeout`: flag an unpaid order half
        way there (while a reminder can still save it); an order still unpaid after it is stuck outright."""
        return cls(awaiting_payment=max(timedelta(minutes=1), payment_timeout / 2))

    def labels(self) -> tuple[str, str, str, str]:
        """What each list holds, in the order of `Stuck.lists`."""
        return (
            f"awaiting payment for over {_span(self.awaiting_payment)}",
            f"confirmed, no parcel left for over {_span(self.unshipped)}",
            "backordered, and the ETA of their stock has passed",
            f"backordered with no stock on its way (no ETA) for over {_span(self.backordered_without_eta)}",
        )


@dataclass(frozen=True)
class StuckOrder:
    order_id: str
    status: str
    channel: str | None
    external_ref: str | None
    customer_email: str | None
    total_amount: str | None
    currency: str | None
    placed_at: datetime | None
    since: datetime
    """When the wait began (awaiting payment, confirmed, backordered), or the ETA that passed."""
    due: datetime | None = None
    """The payment deadline, or the backorder's ETA."""


@dataclass(frozen=True)
class StuckList:
    rule: str
    count: int
    oldest: list[StuckOrder]


@dataclass(frozen=True)
class Stuck:
    awaiting_payment: StuckList
    unshipped: StuckList
    backordered_past_eta: StuckList
    backordered_without_eta: StuckList

    @property
    def lists(self) -> tuple[StuckList, ...]:
        return (self.awaiting_payment, self.unshipped, self.backordered_past_eta, self.backordered_without_eta)

    @property
    def count(self) -> int:
        return sum(found.count for found in self.lists)


def stuck_orders(conn: Connection, now: datetime, rules: StuckRules, shown: int = STUCK_SHOWN) -> Stuck:
    """Each rule's orders, counted in full, the `shown` most overdue of each listed first."""
    o = orders.c
    awaiting_since = func.coalesce(o.awaiting_payment_at, received_at())
    backordered_since = func.coalesce(o.backordered_at, received_at())
    return Stuck(
        awaiting_payment=_stuck(
            conn,
            rules.labels()[0],
            and_(o.status == "awaiting_payment", awaiting_since < now - rules.awaiting_payment),
            awaiting_since,
            o.payment_due_at,
            shown,
        ),
        unshipped=_stuck(
            conn,
            rules.labels()[1],
            and_(o.status == "shipment_requested", o.confirmed_at < now - rules.unshipped),
            o.confirmed_at,
            None,
            shown,
        ),
        backordered_past_eta=_stuck(
            conn,
            rules.labels()[2],
            and_(o.status == "backordered", o.eta.is_not(None), o.eta < now),
            o.eta,
            o.eta,
            shown,
        ),
        backordered_without_eta=_stuck(
            conn,
            rules.labels()[3],
            and_(o.status == "backordered", o.eta.is_(None), backordered_since < now - rules.backordered_without_eta),
            backordered_since,
            None,
            shown,
        ),
    )


def _stuck(
    conn: Connection,
    rule: str,
    where: ColumnElement[bool],
    since: ColumnElement[Any],
    due: ColumnElement[Any] | None,
    shown: int,
) -> StuckList:
    count = int(conn.execute(_reading(select(func.count()), where, since)).scalar_one())
    o = orders.c
    columns: list[ColumnElement[Any]] = [
        o.order_id,
        o.status,
        o.channel,
        o.external_ref,
        o.customer_email,
        o.total_amount,
        o.currency,
    ]
    columns += [o.placed_at, since.label("since"), (null() if due is None else due).label("due")]
    query = _reading(select(*columns), where, since).order_by(since, o.order_id).limit(shown)
    return StuckList(rule, count, [StuckOrder(**row) for row in conn.execute(query).mappings()])


def _reading(query: Select[Any], where: ColumnElement[bool], since: ColumnElement[Any]) -> Select[Any]:
    """`query` over the orders `where` holds, joined to their placement rows only when `where` or `since` reads
    them (a join per order costs a stuck list most of its time)."""
    if _reads_timeline(where) or _reads_timeline(since):
        query = with_receipt(query)
    return query.where(where)


def _reads_timeline(clause: ColumnElement[Any]) -> bool:
    return any(getattr(element, "table", None) is order_timeline for element in visitors.iterate(clause))


def _span(took: timedelta) -> str:
    minutes = int(took.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440} d"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


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
