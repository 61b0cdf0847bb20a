"""The inventory page's stock table: searched and sorted in SQL over the whole view (`projections.inventory_search`),
or, for a read model without SQL views (the in-memory one), the same query over what `list_inventory` gives."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from adapters.http.api.deps import ReadModel
from adapters.http.api.schemas import InventoryItem
from adapters.http.api.views import as_schema
from adapters.http.dashboard import reads
from projections.inventory_search import STOCK_SORTS, StockQuery, StockSort, find_stock, is_match

SHOWN = 500
"""Skus on one page; the page says how many more matched (search narrows them)."""


def stock_listing(
    q: Annotated[str, Query(max_length=64, description="Part of a sku.")] = "",
    low: bool = False,
    sort: Annotated[StockSort, Query()] = "sku",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
) -> StockQuery:
    return StockQuery(search=q.strip() or None, low_only=low, sort=sort, descending=order == "desc")


def stock_table(read_model: ReadModel, query: StockQuery, limit: int = SHOWN) -> tuple[list[InventoryItem], int]:
    """The skus `query` matches, at most `limit` of them, and how many matched."""
    engine = read_model.views()
    if engine is not None:
        with engine.connect() as conn:
            found = find_stock(conn, query, limit)
        return [as_schema(InventoryItem, row) for row in found.rows], found.total
    return _in_memory(reads.stock_levels(read_model), query, limit)


def _in_memory(items: list[InventoryItem], query: StockQuery, limit: int) -> tuple[list[InventoryItem], int]:
    matching = [item for item in items if is_match(item.sku, item.is_low, query)]
    matching.sort(key=lambda item: item.sku)
    present = [item for item in matching if getattr(item, query.sort) is not None]
    present.sort(key=lambda item: getattr(item, query.sort), reverse=query.descending)  # stable: ties by sku
    missing = [item for item in matching if getattr(item, query.sort) is None]  # last, as in SQL's NULLS LAST
    return (present + missing)[:limit], len(matching)


def sort_link(query: StockQuery, column: StockSort) -> dict[str, str]:
    """The query string of a column heading's link: sort by it, or flip the direction when it sorts already."""
    flip = query.sort == column and not query.descending
    params = {"q": query.search or "", "low": "true" if query.low_only else "", "sort": column}
    return {key: value for key, value in {**params, "order": "desc" if flip else "asc"}.items() if value}


__all__ = ["SHOWN", "STOCK_SORTS", "sort_link", "stock_listing", "stock_table"]
