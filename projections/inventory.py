"""The inventory view: a fold of `oms.inventory` per sku (see docs/event-flow.md).

On hand moves with received, adjusted, returned and committed; reserved with reserved, released (when
`was_reserved`) and committed. Incoming purchase orders and the backorder queue are kept per sku. Rows are keyed by
`data.sku`, as the inventory processor keeps them (nothing checks the envelope's `subject`).

What the inventory processor dead-letters (an adjustment it refuses, a record on the wrong key or partition, one
too large) it never applied, and neither does the view (`projections.refusals`). Of the records it takes, the
processor may refuse only those others send it, the `SUPPLIES` (its own answers it passes over unread); the view
keeps each supply it applied in `stock_inputs`, so that a dead letter coming after the record takes it back exactly:
on hand by its inverse, purchase orders and the reorder policy folded again from the supplies left. A refused record
still counts as seen: its sku has a row, and `updated_at` is the latest time of any record of the sku, so that the
row does not depend on whether the dead letter came before or after the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, select, tuple_

from events import (
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
    decode,
    encode,
    topics,
)
from projections.refusals import Refusal, Refused, next_copy
from projections.rows import Row, insert_new, load_rows, upsert
from projections.tables import inventory, seen_events, stock_inputs
from projections.timeline import Positioned

INVENTORY_PROCESSOR = "inventory"
"""Whose dead letters the view leaves out (`DeadLetterRecorded.processor`)."""
SUPPLIES: tuple[type[EventData], ...] = (
    StockReceived,
    StockAdjusted,
    StockReturned,
    StockIncomingScheduled,
    StockReorderPolicySet,
)
"""What others tell the inventory processor and the view applies: what the processor may still refuse after the view
applied it (see the module's docstring)."""


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
    """The inventory row of the event's sku after `event`. Pure: `before` is not modified."""
    row = touched(before, event)
    row["incoming"] = list(row["incoming"])
    row["backorders"] = dict(row["backorders"])
    _apply_stock_data(row, event)
    return _with_derived(row)


def touched(before: Row | None, event: Event[EventData]) -> Row:
    """The row of the event's sku having seen `event` and applied nothing of it (a copy)."""
    row = dict(before) if before else empty_stock(event.data.partition_key())
    # The latest time seen, not the time of the last event applied: the view must not depend on how the records
    # of the sku and the dead letters, which come from another topic, interleave.
    row["updated_at"] = max(filter(None, (row["updated_at"], event.time)))
    return row


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


def _with_derived(row: Row) -> Row:
    row["backorders"] = dict(sorted(row["backorders"].items()))
    row["available"] = row["on_hand"] - row["reserved"]
    row["incoming_qty"] = sum(po["qty"] for po in row["incoming"])
    row["next_eta"] = datetime.fromisoformat(row["incoming"][0]["eta"]) if row["incoming"] else None
    row["backordered_qty"] = sum(row["backorders"].values())
    row["is_low"] = is_low(row)
    row["suggested_reorder_qty"] = suggested_reorder_qty(row)
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


def on_hand_moved(data: EventData) -> int:
    """How much a supply moves on hand."""
    match data:
        case StockReceived() | StockReturned():
            return data.qty
        case StockAdjusted():
            return data.delta
    return 0


def without_supplies(
    row: Row, refused: Sequence[EventData], moved_in: Sequence[Event[EventData]], kept: Sequence[Event[EventData]]
) -> Row:
    """`row` as if the `refused` supplies had never been applied and the `moved_in` ones (copies of their ids the
    processor took) had: on hand moved by the difference, the purchase orders and the reorder policy folded again
    from the supplies `kept` (those of the sku now, in log order). The refused records were seen all the same."""
    again = empty_stock(row["sku"])
    for event in kept:
        _apply_stock_data(again, event)
    undone = dict(row) | {name: again[name] for name in ("incoming", "reorder_point", "reorder_qty")}
    undone["on_hand"] += sum(on_hand_moved(event.data) for event in moved_in)
    undone["on_hand"] -= sum(on_hand_moved(data) for data in refused)
    for event in moved_in:
        undone = touched(undone, event)
    return _with_derived(undone)


# --- the batch step -------------------------------------------------------------------------


def apply_inventory_batch(conn: Connection, items: Sequence[Positioned]) -> None:
    """Fold a batch of (deduplicated, in log order per partition) records into the inventory view, and keep the
    supplies among them for their dead letters."""
    stock = [item for item in items if item.event.data.topic == topics.INVENTORY]
    current = load_rows(conn, inventory, {(item.event.data.partition_key(),) for item in stock})
    for item in stock:
        key = (item.event.data.partition_key(),)
        current[key] = evolve_stock(current.get(key), item.event)
    upsert(conn, inventory, current.values())
    insert_new(conn, stock_inputs, [_input_row(item) for item in stock if isinstance(item.event.data, SUPPLIES)])


def _input_row(item: Positioned) -> Row:
    sku = item.event.data.partition_key()
    value = encode(item.event).decode()
    return {"topic": item.topic, "partition": item.partition, "offset": item.offset} | {
        "sku": sku,
        "event_id": str(item.event.id),
        "value": value,
    }


def undo_refused_stock(conn: Connection, projection: str, refusals: Sequence[Refusal]) -> None:
    """Take back the supplies the view applied and the processor dead-lettered since. Should another record with the
    same id have come meanwhile (dropped then as a redelivery), it is the one the processor took: it is applied in
    their place. Else the id is free again. A refused record that is no supply moved nothing the view counts."""
    c = stock_inputs.c
    where = tuple_(c.topic, c.partition, c.offset).in_([refusal.position for refusal in refusals])
    refused = [decode(value) for (value,) in conn.execute(select(c.value).where(where))]
    if not refused:
        return
    conn.execute(delete(stock_inputs).where(where))
    copies = [copy for event in refused if (copy := next_copy(conn, projection, str(event.id))) is not None]
    insert_new(conn, stock_inputs, [_input_row(copy) for copy in copies])
    freed = {str(event.id) for event in refused} - {str(copy.event.id) for copy in copies}
    seen = seen_events.c
    conn.execute(delete(seen_events).where(seen.projection == projection, seen.event_id.in_(sorted(freed))))
    skus = {event.data.partition_key() for event in [*refused, *(copy.event for copy in copies)]}
    current = load_rows(conn, inventory, {(sku,) for sku in skus})
    kept = _inputs_of(conn, skus)
    for sku in sorted(skus):
        mine = [event.data for event in refused if event.data.partition_key() == sku]
        moved_in = [copy.event for copy in copies if copy.event.data.partition_key() == sku]
        row = current.get((sku,)) or empty_stock(sku)
        current[(sku,)] = without_supplies(row, mine, moved_in, kept.get(sku, []))
    upsert(conn, inventory, current.values())


def _inputs_of(conn: Connection, skus: set[str]) -> dict[str, list[Event[EventData]]]:
    c = stock_inputs.c
    query = select(c.sku, c.value).where(c.sku.in_(sorted(skus))).order_by(c.topic, c.partition, c.offset)
    found: dict[str, list[Event[EventData]]] = {}
    for sku, value in conn.execute(query):
        found.setdefault(sku, []).append(decode(value))
    return found


def set_aside_stock(conn: Connection, refused: Sequence[Refused]) -> None:
    """A record met after its dead letter is seen and not applied (see `touched`)."""
    stock = [item for item, _ in refused if item.event.data.topic == topics.INVENTORY]
    current = load_rows(conn, inventory, {(item.event.data.partition_key(),) for item in stock})
    for item in stock:
        key = (item.event.data.partition_key(),)
        current[key] = touched(current.get(key), item.event)
    upsert(conn, inventory, current.values())
