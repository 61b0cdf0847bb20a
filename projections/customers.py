"""The customers view: one row per customer, folded from their orders in the orders view.

A customer is their email address. A till sale without one (a walk-in) is a customer of its own, keyed
`walk-in:<order id>`: two strangers at a till are not one person. What a customer spent is net money: what
was captured from them less what was refunded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, select

from projections.money import ZERO, amount, text
from projections.rows import Row, chunks, upsert
from projections.tables import customers, orders

WALK_IN = "walk-in:"
CUSTOMER_FIELDS = (
    "order_id",
    "customer_key",
    "customer_email",
    "placed_at",
    "status",
    "captured_amount",
    "refunded_amount",
    "customer_name",
    "customer_language",
    "currency",
    "channel",
)
"""The columns of the orders view that `customer_from_orders` reads."""


def customer_key_of(email: str | None, order_id: str) -> str:
    """The customer an order belongs to: its email, or (a walk-in) the order itself."""
    return email if email else f"{WALK_IN}{order_id}"


def customer_from_orders(key: str, rows: Sequence[Row]) -> Row:
    """A customer row from all of their orders (order-independent, so live and replay agree)."""
    placed = sorted((r for r in rows if r["placed_at"] is not None), key=lambda r: (r["placed_at"], r["order_id"]))
    latest = placed[-1] if placed else None
    spend = sum((amount(r["captured_amount"]) - amount(r["refunded_amount"]) for r in placed), ZERO)
    return {
        "customer_key": key,
        "email": next((r["customer_email"] for r in placed if r["customer_email"]), None),
        "anonymous": key.startswith(WALK_IN),
        "name": next((r["customer_name"] for r in reversed(placed) if r["customer_name"]), None),
        "language": next((r["customer_language"] for r in reversed(placed) if r["customer_language"]), None),
        "orders_count": len(placed),
        "cancelled_count": sum(1 for r in placed if r["status"] == "cancelled"),
        "total_spend": text(spend),
        "currency": latest["currency"] if latest else None,
        "first_order_at": placed[0]["placed_at"] if placed else None,
        "last_order_at": latest["placed_at"] if latest else None,
        "channels": sorted({r["channel"] for r in placed if r["channel"]}),
    }


def as_customer_sees_it(row: Row | None) -> tuple[Any, ...] | None:
    """The fields of an order that `customer_from_orders` reads; of the status, only whether it is cancelled."""
    if row is None:
        return None
    return tuple(row["status"] == "cancelled" if name == "status" else row[name] for name in CUSTOMER_FIELDS)


def refresh_customers(conn: Connection, keys: set[str]) -> None:
    """Rebuild the customer rows of `keys` from their orders; a customer left without any (their one order was a
    placement the processor refused) is no customer."""
    if not keys:
        return
    by_key: dict[str, list[Row]] = {key: [] for key in keys}
    read = [orders.c[name] for name in CUSTOMER_FIELDS]  # not the lines, whose JSON costs the most to load
    for part in chunks(sorted(keys)):
        for row in conn.execute(select(*read).where(orders.c.customer_key.in_(part))).mappings():
            by_key[row["customer_key"]].append(dict(row))
    rows = [customer_from_orders(key, rows) for key, rows in sorted(by_key.items())]
    upsert(conn, customers, [row for row in rows if row["orders_count"]])
    gone = [row["customer_key"] for row in rows if not row["orders_count"]]
    for part in chunks(gone):
        conn.execute(delete(customers).where(customers.c.customer_key.in_(part)))
