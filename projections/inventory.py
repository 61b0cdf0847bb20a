"""The inventory view: a fold of `oms.inventory` per sku (see docs/event-flow.md).

On hand moves with received, adjusted, returned and committed; reserved with reserved, released (when
`was_reserved`) and committed. Incoming purchase orders and the backorder queue are kept per sku.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from events import (
    DeadLetterRecorded,
    DecodeError,
    Event,
    EventData,
    StockAdjusted,
    StockCommitted,
    StockIncomingScheduled,
    StockLow,
    StockReceived,
    StockReleased,
    StockReorderPolicySet,
    StockReservationFailed,
    StockReserved,
    StockReturned,
    caused_by,
    decode,
    topics,
)
from projections.rows import Row, load_rows, upsert
from projections.schema import inventory


def empty_stock(sku: str) -> Row:
    return {
        "sku": sku,
        "on_hand": 0,
        "reserved": 0,
        "available": 0,
        "incoming": [],
        "incoming_qty": 0,
        "next_eta": None,
        "backorders": {},
        "backordered_qty": 0,
        "reorder_point": None,
        "reorder_qty": None,
        "is_low": False,
        "suggested_reorder_qty": 0,
        "low_signalled_at": None,
        "updated_at": None,
    }


def evolve_stock(before: Row | None, event: Event[EventData]) -> Row:
    """The inventory row of `event.subject` after `event`. Pure: `before` is not modified."""
    row = dict(before) if before else empty_stock(event.subject)
    row["incoming"] = list(row["incoming"])
    row["backorders"] = dict(row["backorders"])
    _apply_stock_data(row, event)
    return _with_derived(row, event)


def _apply_stock_data(row: Row, event: Event[EventData]) -> None:
    data = event.data
    match data:
        case StockReceived():
            row["on_hand"] += data.qty
            if data.purchase_order:
                row["incoming"] = [po for po in row["incoming"] if po["purchase_order"] != data.purchase_order]
        case StockAdjusted():
            row["on_hand"] += data.delta
        case StockReturned():
            row["on_hand"] += data.qty
        case StockIncomingScheduled():
            others = [po for po in row["incoming"] if po["purchase_order"] != data.purchase_order]
            scheduled = {"purchase_order": data.purchase_order, "qty": data.qty, "eta": data.eta.isoformat()}
            row["incoming"] = sorted([*others, scheduled], key=lambda po: (po["eta"], po["purchase_order"]))
        case StockReorderPolicySet():
            row.update(reorder_point=data.reorder_point, reorder_qty=data.reorder_qty)
        case StockReserved():
            row["reserved"] += data.qty
            row["backorders"].pop(data.order_id, None)
        case StockReservationFailed():
            row["backorders"][data.order_id] = data.qty
        case StockReleased():
            if data.was_reserved:
                row["reserved"] -= data.qty
            row["backorders"].pop(data.order_id, None)
        case StockCommitted():
            row["on_hand"] -= data.qty
            row["reserved"] -= data.qty
        case StockLow():
            row["low_signalled_at"] = event.time
        case _:  # requests from the order processor change nothing until the inventory processor answers
            pass


def _with_derived(row: Row, event: Event[EventData]) -> Row:
    row["backorders"] = dict(sorted(row["backorders"].items()))
    row["available"] = row["on_hand"] - row["reserved"]
    row["incoming_qty"] = sum(po["qty"] for po in row["incoming"])
    row["next_eta"] = datetime.fromisoformat(row["incoming"][0]["eta"]) if row["incoming"] else None
    row["backordered_qty"] = sum(row["backorders"].values())
    row["is_low"] = is_low(row)
    row["suggested_reorder_qty"] = suggested_reorder_qty(row)
    # The latest time seen, not the time of the last event applied: dead letters arrive from another topic,
    # interleaved differently on every run, and the view must not depend on that interleaving.
    row["updated_at"] = max(filter(None, (row["updated_at"], event.time)))
    return row


def is_low(row: Row) -> bool:
    """True when a reorder point is set and available stock is below it."""
    return row["reorder_point"] is not None and row["available"] < row["reorder_point"]


def suggested_reorder_qty(row: Row) -> int:
    """Enough to cover the backorders and get back above the reorder point, counting what is on its way.

    At least the policy's reorder quantity once a reorder is due; zero while stock is sufficient.
    """
    if row["reorder_point"] is None:
        return 0
    position = row["available"] + row["incoming_qty"] - row["backordered_qty"]
    if position >= row["reorder_point"]:
        return 0
    return int(max(row["reorder_qty"] or 0, row["reorder_point"] - position))


def fold_stock(events: Sequence[Event[EventData]], sku: str) -> Row:
    """The inventory row of `sku` after `events` (in log order), from nothing."""
    row = empty_stock(sku)
    for event in events:
        if event.subject == sku and event.data.topic == topics.INVENTORY:
            row = evolve_stock(row, event)
    return row


def apply_inventory_batch(conn: Connection, events: Sequence[Event[EventData]]) -> None:
    stock_events = [folded for event in events if (folded := _as_stock_event(event)) is not None]
    current = load_rows(conn, inventory, {(event.subject,) for event in stock_events})
    for event in stock_events:
        current[(event.subject,)] = evolve_stock(current.get((event.subject,)), event)
    upsert(conn, inventory, current.values())


def _as_stock_event(event: Event[EventData]) -> Event[EventData] | None:
    return event if event.data.topic == topics.INVENTORY else reversal_of(event)


def reversal_of(event: Event[EventData]) -> Event[EventData] | None:
    """A stock adjustment the inventory processor refused (it would have left fewer on hand than reserved)
    stays on `oms.inventory` but never happened; its dead letter undoes it in this view."""
    dead = event.data
    if not isinstance(dead, DeadLetterRecorded) or dead.processor != "inventory" or dead.kind != "rejected":
        return None
    try:
        original = decode(base64.b64decode(dead.original))
    except (DecodeError, ValueError):
        return None
    if not isinstance(original.data, StockAdjusted):
        return None
    undo = StockAdjusted(sku=original.data.sku, delta=-original.data.delta, reason=f"refused: {dead.reason}"[:200])
    return caused_by(event, "undo", undo, source="oms.projections.inventory", time=event.time)
