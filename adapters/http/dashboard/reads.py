"""What the dashboard pages show, read through the API's `ReadModel` and, for the views the port does not
expose (the shipment and notification feed, sales per day, rates), `projections.queries` on the SQL views."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, inspect, or_, select

from adapters.http.api.deps import OrderFilters, PageRequest, ReadModel
from adapters.http.api.schemas import Analytics, InventoryItem, OrderDetail
from adapters.http.api.sql_read_model import SqlReadModel, all_sales
from adapters.http.api.views import as_schema
from projections import order_progress, queries
from projections.tables import order_timeline

Row = dict[str, Any]

STATUSES = order_progress.STATUSES
OPEN_STATUSES = frozenset({"placed", "awaiting_payment", "backordered"})
"""Nothing was handed to shipping yet: the order can still be cancelled."""
BOARD_SIZE = 25
WINDOW = PageRequest(limit=queries.MAX_LIMIT)
FEED_TYPES = ("oms.shipment.", "oms.notification.", "oms.order.shipped", "oms.order.delivered")


class BoardOrder(OrderDetail):
    """An order as the dashboard reads it: the API's detail plus the times the stuck checks need."""

    awaiting_payment_at: datetime | None = None
    backordered_at: datetime | None = None


@dataclass(frozen=True)
class StuckRules:
    awaiting_payment: timedelta = timedelta(minutes=30)
    unshipped: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class StuckOrders:
    awaiting_payment: list[BoardOrder] = field(default_factory=list)
    unshipped: list[BoardOrder] = field(default_factory=list)
    backordered_past_eta: list[BoardOrder] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.awaiting_payment) + len(self.unshipped) + len(self.backordered_past_eta)


# --- orders ---------------------------------------------------------------------------------


def orders_where(read_model: ReadModel, filters: OrderFilters, page: PageRequest = WINDOW) -> list[BoardOrder]:
    items, _total = read_model.list_orders(filters, page)
    return [as_schema(BoardOrder, item) for item in items]


def latest_orders(read_model: ReadModel, limit: int = BOARD_SIZE) -> list[BoardOrder]:
    return orders_where(read_model, OrderFilters(), PageRequest(limit=limit))


def status_counts(read_model: ReadModel) -> list[tuple[str, int]]:
    one = PageRequest(limit=1)
    return [(status, read_model.list_orders(OrderFilters(status=status), one)[1]) for status in STATUSES]


def find_order(read_model: ReadModel, order_id: str) -> BoardOrder | None:
    row = read_model.get_order(order_id)
    return as_schema(BoardOrder, row) if row is not None else None


def search_orders(read_model: ReadModel, query: str) -> list[BoardOrder]:
    """Orders whose id, external reference or customer email is `query` (emails also tried in lower case)."""
    query = query.strip()
    if not query:
        return []
    found = [as_schema(BoardOrder, row) for row in read_model.find_for_tracking(query)]
    if "@" in query:
        for email in dict.fromkeys((query, query.lower())):
            found += orders_where(read_model, OrderFilters(customer=email))
    unique = {order.order_id: order for order in found}
    return sorted(unique.values(), key=lambda o: o.placed_at or datetime.min.replace(tzinfo=UTC), reverse=True)


def orders_per_minute(read_model: ReadModel, now: datetime, minutes: int = 30) -> list[tuple[datetime, int]]:
    """Orders placed in each of the last `minutes` whole minutes, oldest first (the current minute last)."""
    current = now.replace(second=0, microsecond=0)
    start = current - timedelta(minutes=minutes - 1)
    placed = orders_where(read_model, OrderFilters(placed_from=start))
    counts = Counter(o.placed_at.replace(second=0, microsecond=0) for o in placed if o.placed_at)
    return [(start + timedelta(minutes=i), counts[start + timedelta(minutes=i)]) for i in range(minutes)]


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def revenue_today(read_model: ReadModel, now: datetime) -> Analytics:
    return as_schema(Analytics, read_model.analytics(day_start(now.date()), None))


def is_awaiting_payment_too_long(order: BoardOrder, now: datetime, limit: timedelta) -> bool:
    since = order.awaiting_payment_at or order.placed_at
    return order.status == "awaiting_payment" and since is not None and now - since > limit


def is_unshipped_too_long(order: BoardOrder, now: datetime, limit: timedelta) -> bool:
    """Confirmed (its parcel asked for) and nothing left since."""
    if order.status != "shipment_requested" or order.confirmed_at is None:
        return False
    return now - order.confirmed_at > limit


def is_backordered_past_eta(order: BoardOrder, now: datetime) -> bool:
    return order.status == "backordered" and order.eta is not None and order.eta < now


def stuck_orders(read_model: ReadModel, now: datetime, rules: StuckRules) -> StuckOrders:
    def having(status: str) -> list[BoardOrder]:
        return orders_where(read_model, OrderFilters(status=status))

    return StuckOrders(
        awaiting_payment=[
            o for o in having("awaiting_payment") if is_awaiting_payment_too_long(o, now, rules.awaiting_payment)
        ],
        unshipped=[o for o in having("shipment_requested") if is_unshipped_too_long(o, now, rules.unshipped)],
        backordered_past_eta=[o for o in having("backordered") if is_backordered_past_eta(o, now)],
    )


def is_cancellable(order: BoardOrder) -> bool:
    return order.status in OPEN_STATUSES


# --- inventory ------------------------------------------------------------------------------


def stock_levels(read_model: ReadModel, low_only: bool = False) -> list[InventoryItem]:
    items, _total = read_model.list_inventory(WINDOW, low_only)
    return [as_schema(InventoryItem, item) for item in items]


def reorder_suggestions(stock: Sequence[InventoryItem]) -> list[InventoryItem]:
    return [item for item in stock if item.suggested_reorder_qty > 0]


# --- analytics ------------------------------------------------------------------------------

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


def shipping_time_histogram(orders: Sequence[BoardOrder]) -> list[tuple[str, int]]:
    """How many orders took each span from placed to shipped (orders not shipped yet are left out)."""
    counts = Counter(_bucket(o.shipped_at - o.placed_at) for o in orders if o.placed_at and o.shipped_at)
    return [(label, counts[label]) for label in (*(label for label, _ in DURATION_BUCKETS), LAST_BUCKET)]


def _bucket(took: timedelta) -> str:
    return next((label for label, limit in DURATION_BUCKETS if took < limit), LAST_BUCKET)


def units_by_day_and_channel(rows: Sequence[Row], days: Sequence[date]) -> dict[str, list[int]]:
    """Units placed per channel, one number per day in `days`."""
    per: Counter[tuple[str, date]] = Counter()
    for row in rows:
        per[(row["channel"], row["day"])] += row["units"]
    channels = sorted({channel for channel, _ in per})
    return {channel: [per[(channel, day)] for day in days] for channel in channels}


class ExtraReads(Protocol):
    """Reads the API's `ReadModel` does not offer; answered from the SQL views."""

    def feed(self, limit: int) -> list[Row]: ...
    def sales(self, day_from: date, day_to: date) -> list[Row]: ...
    def rates(self, day_from: date, day_to: date) -> Row: ...


class NoExtraReads:
    """For read models without SQL views behind them (the in-memory one): empty answers."""

    def feed(self, limit: int) -> list[Row]:
        return []

    def sales(self, day_from: date, day_to: date) -> list[Row]:
        return []

    def rates(self, day_from: date, day_to: date) -> Row:
        return {"orders": 0, "backorder_rate": None, "cancellation_rate": None, "fill_rate": None}


class SqlExtraReads(NoExtraReads):
    """Each read opens its own connection; before the projections created their tables it answers empty."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def feed(self, limit: int) -> list[Row]:
        if not self._has_tables():
            return []
        kinds = or_(*(order_timeline.c.type.startswith(kind) for kind in FEED_TYPES))
        query = select(order_timeline).where(kinds).order_by(order_timeline.c.time.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def sales(self, day_from: date, day_to: date) -> list[Row]:
        if not self._has_tables():
            return []
        with self._engine.connect() as conn:
            return list(all_sales(conn, day_from, day_to))

    def rates(self, day_from: date, day_to: date) -> Row:
        if not self._has_tables():
            return super().rates(day_from, day_to)
        with self._engine.connect() as conn:
            return queries.rates(conn, day_from=day_from, day_to=day_to)

    def _has_tables(self) -> bool:
        present = set(inspect(self._engine).get_table_names())
        return {"orders", "order_timeline", "sales_daily"} <= present


def extra_reads(read_model: ReadModel) -> ExtraReads:
    """SQL reads beside a `SqlReadModel`, on its engine; empty ones beside any other read model."""
    if isinstance(read_model, SqlReadModel):
        return SqlExtraReads(read_model.engine)
    return NoExtraReads()
