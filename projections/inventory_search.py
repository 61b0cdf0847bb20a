"""The inventory view searched and sorted in SQL, over every sku: what the dashboard's stock table shows.

The event contract carries no product names (order lines, receipts and stock events name a sku only), so the
search matches part of a sku, case-insensitively."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Connection, func, inspect, select

from projections.rows import Row
from projections.tables import inventory

StockSort = Literal["sku", "on_hand", "reserved", "available", "incoming_qty", "backordered_qty", "reorder_point"]
STOCK_SORTS: tuple[StockSort, ...] = get_args(StockSort)


@dataclass(frozen=True)
class StockQuery:
    """Which skus, in what order: part of a sku (None: all), low stock only, a column and a direction."""

    search: str | None = None
    low_only: bool = False
    sort: StockSort = "sku"
    descending: bool = False


@dataclass(frozen=True)
class StockPage:
    rows: list[Row]
    total: int
    """How many skus match, shown or not."""


def find_stock(conn: Connection, query: StockQuery, limit: int) -> StockPage:
    """The first `limit` skus matching `query`, in its order (ties by sku); an empty page before the inventory
    projection created its table."""
    if not inspect(conn).has_table(inventory.name):
        return StockPage([], 0)
    where = _matching(query)
    column: ColumnElement[Any] = inventory.c[query.sort]
    ordered = (column.desc() if query.descending else column.asc()).nulls_last()
    found = select(inventory).where(*where).order_by(ordered, inventory.c.sku).limit(max(0, limit))
    total = conn.execute(select(func.count()).select_from(inventory).where(*where)).scalar_one()
    return StockPage([dict(row) for row in conn.execute(found).mappings()], int(total))


def _matching(query: StockQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.search:
        where.append(func.lower(inventory.c.sku).contains(query.search.lower(), autoescape=True))
    if query.low_only:
        where.append(inventory.c.is_low.is_(True))
    return where


def is_match(sku: str, is_low: bool, query: StockQuery) -> bool:
    """What `find_stock` keeps, for a read model without SQL views."""
    return (not query.search or query.search.lower() in sku.lower()) and (is_low or not query.low_only)
