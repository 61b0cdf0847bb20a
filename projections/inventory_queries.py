"""The inventory view as typed rows: stock per sku, a page of skus, and the totals over every sku (in SQL)."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict, cast

from sqlalchemy import ColumnElement, Connection, func, select

from projections.tables import inventory

MAX_LIMIT = 1000


class IncomingStock(TypedDict):
    """A purchase order on its way: `eta` as ISO 8601 text, as the view keeps it."""

    purchase_order: str
    qty: int
    eta: str


class SkuRow(TypedDict):
    """One sku of the inventory view; `backorders` maps each waiting order id to its units, in order id order."""

    sku: str
    on_hand: int
    reserved: int
    available: int
    incoming: list[IncomingStock]
    incoming_qty: int
    next_eta: datetime | None
    backorders: dict[str, int]
    backordered_qty: int
    reorder_point: int | None
    reorder_qty: int | None
    is_low: bool
    suggested_reorder_qty: int
    low_signalled_at: datetime | None
    updated_at: datetime | None


class ReorderRow(TypedDict):
    sku: str
    available: int
    suggested_reorder_qty: int


class InventoryReport(TypedDict):
    """Totals across every sku, and every sku that needs a reorder."""

    skus: int
    on_hand: int
    reserved: int
    available: int
    incoming: int
    backordered: int
    low: int
    to_reorder: list[ReorderRow]


def _filters(low_only: bool, sku_prefix: str | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if low_only:
        where.append(inventory.c.is_low.is_(True))
    if sku_prefix:
        where.append(inventory.c.sku.startswith(sku_prefix, autoescape=True))
    return where


def list_inventory(
    conn: Connection, *, low_only: bool = False, sku_prefix: str | None = None, limit: int = 100, offset: int = 0
) -> list[SkuRow]:
    """A page of skus in sku order; `low_only` keeps those below their reorder point."""
    query = select(inventory).where(*_filters(low_only, sku_prefix)).order_by(inventory.c.sku)
    query = query.limit(max(0, min(limit, MAX_LIMIT))).offset(max(0, offset))
    return [cast(SkuRow, dict(row)) for row in conn.execute(query).mappings()]


def count_skus(conn: Connection, *, low_only: bool = False, sku_prefix: str | None = None) -> int:
    query = select(func.count()).select_from(inventory).where(*_filters(low_only, sku_prefix))
    return int(conn.execute(query).scalar_one())


def get_sku(conn: Connection, sku: str) -> SkuRow | None:
    found = conn.execute(select(inventory).where(inventory.c.sku == sku)).mappings().first()
    return cast(SkuRow, dict(found)) if found else None


def reorder_suggestions(conn: Connection) -> list[ReorderRow]:
    """Every sku that needs a reorder, in sku order."""
    i = inventory.c
    query = select(i.sku, i.available, i.suggested_reorder_qty).where(i.suggested_reorder_qty > 0).order_by(i.sku)
    return [cast(ReorderRow, dict(row)) for row in conn.execute(query).mappings()]


def inventory_report(conn: Connection) -> InventoryReport:
    """Totals across every sku, and the skus that need a reorder."""
    i = inventory.c
    totals = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(i.on_hand), 0),
            func.coalesce(func.sum(i.reserved), 0),
            func.coalesce(func.sum(i.incoming_qty), 0),
            func.coalesce(func.sum(i.backordered_qty), 0),
        )
    ).one()
    skus, on_hand, reserved, incoming, backordered = (int(v) for v in totals)
    return {
        "skus": skus,
        "on_hand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
        "incoming": incoming,
        "backordered": backordered,
        "low": count_skus(conn, low_only=True),
        "to_reorder": reorder_suggestions(conn),
    }
