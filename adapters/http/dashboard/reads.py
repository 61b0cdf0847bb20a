"""What the dashboard pages show: single orders and pages of them through the API's `ReadModel`; every count, sum
and histogram through the query modules of `projections` (`overview_queries`, `queries`), computed in SQL over the
whole view behind the read model (`ReadModel.views`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Engine, inspect, or_, select

from adapters.http.api.deps import PageRequest, ReadModel
from adapters.http.api.schemas import InventoryItem, OrderDetail
from adapters.http.api.views import as_schema
from projections import analytics_queries, inventory_queries, overview_queries, queries, sales_queries
from projections.analytics_queries import Rates
from projections.inventory_queries import ReorderRow
from projections.order_list_queries import OrderListRow, OrderQuery
from projections.order_progress import STATUSES
from projections.sales_queries import DayUnits
from projections.tables import inventory, order_timeline

Row = dict[str, Any]

OPEN_STATUSES = frozenset({"placed", "awaiting_payment", "backordered"})
"""Nothing was handed to shipping yet: the order can still be cancelled."""
BOARD_SIZE = 25
WINDOW = PageRequest(limit=queries.MAX_LIMIT)
FEED_TYPES = ("oms.shipment.", "oms.notification.", "oms.order.shipped", "oms.order.delivered")


# --- orders ---------------------------------------------------------------------------------


def latest_orders(read_model: ReadModel, limit: int = BOARD_SIZE) -> list[OrderListRow]:
    """The board's newest orders, from the orders list."""
    return read_model.order_page(OrderQuery(), limit).rows


def find_order(read_model: ReadModel, order_id: str) -> OrderDetail | None:
    row = read_model.get_order(order_id)
    return as_schema(OrderDetail, row) if row is not None else None


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def is_cancellable(order: OrderDetail) -> bool:
    return order.status in OPEN_STATUSES


# --- inventory ------------------------------------------------------------------------------


def stock_levels(read_model: ReadModel, low_only: bool = False) -> list[InventoryItem]:
    items, _total = read_model.list_inventory(WINDOW, low_only)
    return [as_schema(InventoryItem, item) for item in items]


def reorder_suggestions(read_model: ReadModel, stock: Sequence[InventoryItem]) -> Sequence[ReorderRow | InventoryItem]:
    """Every sku to reorder, over the whole view (`stock` is a page of it); from `stock` without SQL views."""
    engine = read_model.views()
    if engine is None or not inspect(engine).has_table(inventory.name):  # the inventory projection makes its own
        return [item for item in stock if item.suggested_reorder_qty > 0]
    with engine.connect() as conn:
        return inventory_queries.reorder_suggestions(conn)


# --- analytics ------------------------------------------------------------------------------


def units_by_day_and_channel(rows: Sequence[DayUnits], days: Sequence[date]) -> dict[str, list[int]]:
    """Units placed per channel, one number per day in `days` (0 for a day without sales). The rows come summed per
    day and channel from SQL (`sales_queries.units_by_day_and_channel`); a day and channel given twice adds up."""
    per: Counter[tuple[str, date]] = Counter()
    for row in rows:
        per[(row["channel"], row["day"])] += row["units"]
    channels = sorted({channel for channel, _ in per})
    return {channel: [per.get((channel, day), 0) for day in days] for channel in channels}


# --- the aggregates, over the SQL views -----------------------------------------------------------------------


class Views:
    """The aggregates over the views behind a read model; each read opens its own connection. Without views (the
    in-memory read model, or before the projections created their tables) every answer is an empty view's."""

    def __init__(self, engine: Engine | None) -> None:
        self._engine = engine

    def overview(self, now: datetime, rules: overview_queries.StuckRules, minutes: int) -> overview_queries.Overview:
        if self._engine is None:
            return overview_queries.empty_overview(now, rules, minutes)
        with self._engine.connect() as conn:
            return overview_queries.overview(conn, now, rules, minutes)

    def status_counts(self) -> list[overview_queries.StatusCount]:
        if self._engine is None:
            return [overview_queries.StatusCount(status, 0) for status in STATUSES]
        with self._engine.connect() as conn:
            return overview_queries.status_counts(conn)

    def time_to_ship(self, placed_from: datetime) -> list[overview_queries.DurationBucket]:
        if self._engine is None:
            return overview_queries.time_to_ship_of_nothing()
        with self._engine.connect() as conn:
            return overview_queries.time_to_ship(conn, placed_from)

    def feed(self, limit: int) -> list[Row]:
        if self._engine is None:
            return []
        kinds = or_(*(order_timeline.c.type.startswith(kind) for kind in FEED_TYPES))
        query = select(order_timeline).where(kinds).order_by(order_timeline.c.time.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def sales(self, day_from: date, day_to: date) -> list[DayUnits]:
        if self._engine is None:
            return []
        with self._engine.connect() as conn:
            return sales_queries.units_by_day_and_channel(conn, day_from, day_to)

    def rates(self, day_from: date, day_to: date) -> Rates:
        if self._engine is None:
            return {"orders": 0, "backorder_rate": None, "cancellation_rate": None, "fill_rate": None}
        with self._engine.connect() as conn:
            return analytics_queries.rates(conn, day_from=day_from, day_to=day_to)


def views_of(read_model: ReadModel) -> Views:
    return Views(read_model.views())
