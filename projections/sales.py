"""Daily sales per day x channel x sku x currency, folded from the orders rows: what each placement, change and
cancellation adds or gives back, on the day the order was placed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, delete

from events import Event, EventData, OrderCancelled, OrderChanged, OrderPlaced
from projections.money import in_minor_units
from projections.rows import Row, load_rows, upsert
from projections.tables import sales_daily

SalesKey = tuple[date, str, str, str]


def sales_changes(before: Row | None, after: Row, event: Event[EventData]) -> list[tuple[SalesKey, Row]]:
    """What `event` adds to the daily sales (on the day the order was placed): a first placement sells its
    lines, a change sells the units it adds and gives back those it takes off, a first cancellation gives back
    what was left on the order."""
    data = event.data
    placed_now = isinstance(data, OrderPlaced) and (before is None or before["placed_at"] is None)
    cancelled_now = isinstance(data, OrderCancelled) and (before is None or before["cancelled_at"] is None)
    return _sales_moved(before, after, placed_now=placed_now, cancelled_now=cancelled_now, changed=data)


def sales_taken_back(row: Row) -> list[tuple[SalesKey, Row]]:
    """What the placement of `row` added to the daily sales, negated: the sales of an order that never was. (A
    placement the processor refused has no change nor cancellation after it.)"""
    return [
        (key, {name: -value for name, value in delta.items()})
        for key, delta in _sales_moved(None, row, placed_now=True, cancelled_now=False, changed=None)
    ]


def _sales_moved(
    before: Row | None, after: Row, *, placed_now: bool, cancelled_now: bool, changed: EventData | None
) -> list[tuple[SalesKey, Row]]:
    if after["placed_at"] is None or not (placed_now or cancelled_now or isinstance(changed, OrderChanged)):
        return []
    day, channel, currency = after["placed_at"].date(), after["channel"], after["currency"]
    was = {line["sku"]: line["qty"] for line in (before["lines"] if before and not placed_now else [])}
    changes = []
    for line in after["lines"]:
        moved = 0 if cancelled_now else line["qty"] - was.get(line["sku"], 0)
        sold, back = max(moved, 0), line["qty"] if cancelled_now else max(-moved, 0)
        if sold or back:
            revenue = Decimal(line["unit_price"]) * sold
            delta = {"orders": int(placed_now), "units": sold, "revenue": revenue, "cancelled_units": back}
            changes.append(((day, channel, line["sku"], currency), delta))
    return changes


def add_sales(before: Row | None, key: SalesKey, delta: Row) -> Row:
    day, channel, sku, currency = key
    row = before or {"day": day, "channel": channel, "sku": sku, "currency": currency}
    return {
        **row,
        "orders": row.get("orders", 0) + delta["orders"],
        "units": row.get("units", 0) + delta["units"],
        # in the currency's minor units: the text must not keep the precision of a price added and taken back
        "revenue": in_minor_units(Decimal(row.get("revenue", "0")) + delta["revenue"], currency),
        "cancelled_units": row.get("cancelled_units", 0) + delta["cancelled_units"],
    }


def write_sales(conn: Connection, deltas: dict[SalesKey, list[Row]]) -> None:
    if not deltas:
        return
    existing = load_rows(conn, sales_daily, deltas.keys())
    rows: list[Row] = []
    nothing: list[Row] = []
    for key, changes in deltas.items():
        row = existing.get(key)
        for delta in changes:
            row = add_sales(row, key, delta)
        if row is not None:
            (rows if counts_anything(row) else nothing).append(row)
    upsert(conn, sales_daily, rows)
    for row in nothing:  # only a placement taken back leaves a day that counts nothing: as if it never was
        conn.execute(delete(sales_daily).where(*(sales_daily.c[name] == row[name] for name in SALES_KEY)))


SALES_KEY = ("day", "channel", "sku", "currency")


def counts_anything(row: Row) -> bool:
    return bool(row["orders"] or row["units"] or row["cancelled_units"] or Decimal(row["revenue"]))
