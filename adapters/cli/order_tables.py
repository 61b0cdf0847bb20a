"""`oms orders show`: one order as Rich tables: its facts, its ledger, lines, payments, parcels, returns and
timeline (a refused request says so, with the reason)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

Row = dict[str, Any]
FACTS = (
    "status",
    "channel",
    "external_ref",
    "customer_email",
    "customer_name",
    "fulfilment",
    "capture",
    "placed_at",
    "confirmed_at",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
    "cancellation_reason",
    "eta",
    "payment_due_at",
)
LEDGER = (
    ("total", "total_amount"),
    ("authorized", "authorized_amount"),
    ("captured", "captured_amount"),
    ("refunded", "refunded_amount"),
    ("balance due", "balance_due"),
)


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":  # a time inside the JSON columns
        return value[:19].replace("T", " ")
    return str(value)


def table(title: str, rows: Sequence[Row], columns: Sequence[str]) -> Table:
    shown = Table(title=title)
    for column in columns:
        shown.add_column(column.replace("_", " "))
    for row in rows:
        shown.add_row(*(text(row.get(column)) for column in columns))
    return shown


def facts_table(order: Row) -> Table:
    shown = Table(title=f"order {order['order_id']}", show_header=False)
    shown.add_column("field", style="bold")
    shown.add_column("value")
    for name in FACTS:
        if order.get(name) is not None:
            shown.add_row(name.replace("_", " "), text(order[name]))
    return shown


def ledger_table(order: Row) -> Table:
    """What the order costs now, what was authorized, captured and refunded, what is still due."""
    shown = Table(title=f"ledger ({order.get('payment_status') or 'no payment'})", show_header=False)
    shown.add_column("", style="bold")
    shown.add_column(order.get("currency") or "", justify="right")
    for label, column in LEDGER:
        shown.add_row(label, text(order.get(column)))
    return shown


def parcel_rows(parcels: Sequence[Row]) -> list[Row]:
    return [{**p, "lines": ", ".join(f"{ln['qty']} x {ln['sku']}" for ln in p["lines"])} for p in parcels]


def timeline_rows(timeline: Sequence[Row]) -> list[Row]:
    """Each entry; a refused request's summary ends with the refusal."""
    return [
        {**entry, "summary": f"{entry['summary']}  [REFUSED {entry['refusal_code']}: {entry['refusal_reason']}]"}
        if entry.get("refusal_code")
        else entry
        for entry in timeline
    ]


def print_order(console: Console, detail: Mapping[str, Any]) -> None:
    """An order with its timeline (`order_detail_queries.OrderDetailRow`, or the archive's order at a time)."""
    order: Row = dict(detail)
    console.print(facts_table(order))
    console.print(ledger_table(order))
    console.print(table("lines", order["lines"], ["sku", "qty", "unit_price", "returned"]))
    if order["payments"]:
        columns = ["payment_id", "kind", "amount", "currency", "captured", "refunded"]
        console.print(table("payments", order["payments"], columns))
    if order["parcels"]:
        columns = ["shipment_id", "status", "lines", "carrier", "tracking_number", "dispatched_at", "delivered_at"]
        console.print(table("parcels", parcel_rows(order["parcels"]), columns))
    if order["returns"]:
        console.print(table("returns", order["returns"], ["rma", "reason", "lines", "received"]))
    if order["timeline"]:
        console.print(table("timeline", timeline_rows(order["timeline"]), ["time", "type", "summary"]))
