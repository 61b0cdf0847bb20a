"""The API's `ReadModel` over the SQL views that `oms project` writes, through `projections.queries`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, Table, inspect

from adapters.http.api.deps import OrderFilters, PageRequest
from projections import customer_queries, inventory_queries, queries, sales_queries
from projections import order_detail_queries as order_detail
from projections import order_list_queries as order_list
from projections.customer_queries import CustomerRow
from projections.inventory_queries import SkuRow
from projections.order_detail_queries import OrderDetailRow, OrderRow
from projections.order_list_queries import OrderListRow, OrderPage, OrderQuery
from projections.sales_queries import SalesReport
from projections.tables import customers, inventory, order_timeline, orders, sales_daily

Row = dict[str, Any]

ORDER_TABLES = (orders, order_timeline, customers, sales_daily)
"""The orders projection's tables: the orders, their timelines, and what the dashboard's aggregates read."""


class SqlReadModel:
    """Each read opens its own connection. Until the projections have created their tables (the API may
    start before `oms project`), every read answers as an empty view does."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._present: set[str] = set()

    def order_page(self, query: OrderQuery, limit: int, after: str | None = None) -> OrderPage:
        if after:
            order_list.read_cursor(after)  # a foreign cursor is refused with or without views
        if self.views() is None or not can_match(*asdict(query).values()):
            return OrderPage([], 0, None)
        with self._engine.connect() as conn:
            return order_list.order_page(conn, query, limit, after)

    def every_order(self, query: OrderQuery) -> Iterator[OrderListRow]:
        if self.views() is None or not can_match(*asdict(query).values()):
            return
        with self._engine.connect() as conn:
            yield from order_list.every_order(conn, query)

    def views(self) -> Engine | None:
        """The engine once the orders projection has created its tables (the dashboard's aggregates read those)."""
        return self._engine if self._has(*ORDER_TABLES) else None

    def list_orders(self, filters: OrderFilters, page: PageRequest) -> tuple[Sequence[OrderRow], int]:
        if not self._has(*ORDER_TABLES) or not can_match(*asdict(filters).values()):
            return [], 0
        chosen = asdict(filters)  # the filters are named as the query's keywords
        with self._engine.connect() as conn:
            rows = queries.list_orders(conn, **chosen, limit=page.limit, offset=page.offset)
            return rows, queries.count_orders(conn, **chosen)

    def get_order(self, order_id: str) -> OrderDetailRow | None:
        if not self._has(*ORDER_TABLES):
            return None
        with self._engine.connect() as conn:
            return order_detail.get_order(conn, order_id)

    def list_inventory(self, page: PageRequest, low_only: bool = False) -> tuple[Sequence[SkuRow], int]:
        if not self._has(inventory):
            return [], 0
        with self._engine.connect() as conn:
            rows = inventory_queries.list_inventory(conn, low_only=low_only, limit=page.limit, offset=page.offset)
            return rows, inventory_queries.count_skus(conn, low_only=low_only)

    def get_sku(self, sku: str) -> SkuRow | None:
        if not self._has(inventory):
            return None
        with self._engine.connect() as conn:
            return inventory_queries.get_sku(conn, sku)

    def list_customers(self, page: PageRequest) -> tuple[Sequence[CustomerRow], int]:
        if not self._has(customers, orders):
            return [], 0
        with self._engine.connect() as conn:
            rows = customer_queries.list_customers(conn, limit=page.limit, offset=page.offset)
            return rows, customer_queries.count_customers(conn)

    def analytics(self, since: datetime | None, until: datetime | None) -> SalesReport:
        """Sales are kept per day, so the range widens to whole UTC days; the answer states the days used."""
        day_from, day_to = covered_days(since, until)
        placed_from, placed_to = day_start(day_from), day_start(day_to, after=True)
        if not self._has(sales_daily, orders):
            return {"since": placed_from, "until": placed_to, **sales_queries.no_sales()}
        with self._engine.connect() as conn:
            summary = sales_queries.sales_summary(conn, day_from, day_to, placed_from, placed_to)
        return {"since": placed_from, "until": placed_to, **summary}

    def find_for_tracking(self, reference: str) -> Sequence[OrderRow]:
        if not self._has(*ORDER_TABLES) or not can_match(reference):
            return []
        with self._engine.connect() as conn:
            return order_detail.orders_by_reference(conn, reference)

    def _has(self, *tables: Table) -> bool:
        """Whether the projections have created `tables` (each projection creates its own, in its own time)."""
        if not all(table.name in self._present for table in tables):
            self._present = set(inspect(self._engine).get_table_names())
        return all(table.name in self._present for table in tables)


def can_match(*values: object) -> bool:
    """False when a filter holds a NUL character. PostgreSQL text cannot hold one, so no row of the views does,
    and psycopg refuses to send one in a query (a DataError: a 500 for `track?order=%00`)."""
    return not any(isinstance(value, str) and "\x00" in value for value in values)


def covered_days(since: datetime | None, until: datetime | None) -> tuple[date | None, date | None]:
    """The UTC days that cover [since, until): `until` exclusive, so midnight ends the day before."""
    day_from = _utc(since).date() if since is not None else None
    day_to = (_utc(until) - timedelta(microseconds=1)).date() if until is not None else None
    return day_from, day_to


def day_start(day: date | None, *, after: bool = False) -> datetime | None:
    """Midnight UTC starting `day` (or the day after it)."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1) if after else day, time.min, tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
