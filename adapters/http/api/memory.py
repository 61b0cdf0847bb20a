"""An in-memory `ReadModel`: the API's reads before projections are wired, and the fake tests use."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from adapters.http.api.deps import OrderFilters, PageRequest
from projections import order_list_queries as order_list
from projections.order_list_queries import OrderListRow, OrderPage, OrderQuery


@dataclass
class InMemoryReadModel:
    """Rows as dicts with the response schemas' field names; `orders` rows also carry `customer_email`."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    inventory: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    analytics_row: dict[str, Any] = field(default_factory=dict)

    def list_orders(self, filters: OrderFilters, page: PageRequest) -> tuple[Sequence[Any], int]:
        rows = [row for row in self.orders.values() if _matches(row, filters)]
        rows.sort(key=lambda row: row.get("placed_at") or datetime.min, reverse=True)
        return rows[page.offset : page.offset + page.limit], len(rows)

    def get_order(self, order_id: str) -> Any | None:
        return self.orders.get(order_id)

    def list_inventory(self, page: PageRequest, low_only: bool = False) -> tuple[Sequence[Any], int]:
        rows = [row for _, row in sorted(self.inventory.items()) if row.get("is_low") or not low_only]
        return rows[page.offset : page.offset + page.limit], len(rows)

    def get_sku(self, sku: str) -> Any | None:
        return self.inventory.get(sku)

    def list_customers(self, page: PageRequest) -> tuple[Sequence[Any], int]:
        rows = [row for _, row in sorted(self.customers.items())]
        return rows[page.offset : page.offset + page.limit], len(rows)

    def analytics(self, since: datetime | None, until: datetime | None) -> Any:
        return {"since": since, "until": until, **self.analytics_row}

    def find_for_tracking(self, reference: str) -> Sequence[Any]:
        return [row for row in self.orders.values() if reference in (row["order_id"], row.get("external_ref"))]

    def order_page(self, query: OrderQuery, limit: int, after: str | None = None) -> OrderPage:
        return order_list.page_of_rows([order_list.row_of(row) for row in self.orders.values()], query, limit, after)

    def every_order(self, query: OrderQuery) -> Iterator[OrderListRow]:
        return iter(self.order_page(query, len(self.orders) + 1).rows)

    def views(self) -> Engine | None:
        return None


def _matches(row: dict[str, Any], filters: OrderFilters) -> bool:
    placed = row.get("placed_at")
    return (
        (filters.status is None or row.get("status") == filters.status)
        and (filters.channel is None or row.get("channel") == filters.channel)
        and (filters.customer is None or row.get("customer_email") == filters.customer)
        and (filters.placed_from is None or (placed is not None and placed >= filters.placed_from))
        and (filters.placed_to is None or (placed is not None and placed < filters.placed_to))
    )
