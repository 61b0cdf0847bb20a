"""The exceptions desk: what needs a person, folded from the log, and what became of each retry.

An item is a dead letter (anything a processor could not decode or apply, garbage bytes included), a request the
order processor refused (payment mismatches apart: wrong currency, conflicting or refunded payments), or a
backorder without an ETA until it clears. A retry is any event whose `causationid` is an item's id (the desk
publishes them so); its outcome is read from the log, never written by the desk: dead-lettered or refused again
(another item names it as the event in question), or processed (a pipeline decision it caused, found in the retry's
story: its `correlationid` is the item's id too).

Every row is inserted once by a deterministic key, so a redelivery or a replay writes the same rows. Items precede
their retries on the log (a person retries what the desk shows), and the dead letters precede everything in a
replay from the archive (their topic sorts first), so what a retry became is found live and in a replay alike.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from sqlalchemy import Connection, and_, select, update

from events import (
    DeadLetterRecorded,
    DecodeError,
    Event,
    EventData,
    OrderBackorderCleared,
    OrderBackordered,
    OrderCancelled,
    OrderConfirmed,
    OrderRequestRefused,
    decode,
)
from projections.archive import Record
from projections.rows import Row, insert_new
from projections.tables import desk_effects, desk_items, desk_retries

Decoded = tuple[Record, Event[EventData] | None]

PAYMENT_CODES = frozenset({"wrong_currency", "payment_conflict", "payment_already_refunded"})
"""Refusal codes that are a payment not matching its order: listed as payment mismatches."""
CATEGORY_OF_KIND = {"notifier_failed": "notification", "carrier_failed": "shipment"}
"""Dead letters of a failed call out: a notification or a shipment the pipeline could not get done."""
CATEGORIES = ("dead_letter", "notification", "shipment", "refused", "payment", "backorder")
PIPELINE_SOURCE = "oms.pipeline."
NO_ETA = "no_eta"


def apply_desk_batch(conn: Connection, items: Sequence[Decoded]) -> None:
    """Fold one batch: new items first (a retry may follow its item in the same batch), then retries, then what
    the retries' stories decided, then backorders cleared."""
    events = [(record, event) for record, event in items if event is not None]
    insert_new(conn, desk_items, [row for record, event in events if (row := item_row(record, event)) is not None])
    causes = {str(event.causationid) for _, event in events if event.causationid}
    known = _known_items(conn, causes)
    insert_new(conn, desk_retries, [retry_row(r, e) for r, e in events if e.causationid in known])
    stories = {event.correlationid for _, event in events if event.source.startswith(PIPELINE_SOURCE)}
    in_story = _known_items(conn, stories)
    effects = [effect_row(e) for _, e in events if e.source.startswith(PIPELINE_SOURCE) and e.correlationid in in_story]
    insert_new(conn, desk_effects, [row for row in effects if row["cause_id"]])
    for record, event in events:
        if clears_backorder(event):
            _clear_backorders(conn, record, event)


def item_row(record: Record, event: Event[EventData]) -> Row | None:
    """The desk item `event` is, or None."""
    data = event.data
    if isinstance(data, DeadLetterRecorded):
        return dead_letter_row(event, data)
    if isinstance(data, OrderRequestRefused):
        category = "payment" if data.code in PAYMENT_CODES else "refused"
        return _row(record, event, category, data.code, data.reason) | {
            "event_id": data.refused_event_id,
            "event_type": data.refused_type,
        }
    if isinstance(data, OrderBackordered) and is_without_eta(data):
        skus = ", ".join(f"{line.qty} x {line.sku}" for line in data.lines)
        return _row(record, event, "backorder", NO_ETA, f"waiting for {skus} with no ETA") | {
            "event_id": str(event.id),
            "event_type": event.type,
        }
    return None


def dead_letter_row(event: Event[EventData], data: DeadLetterRecorded) -> Row:
    original = original_event(data.original)
    return {
        "item_id": str(event.id),
        "category": CATEGORY_OF_KIND.get(data.kind, "dead_letter"),
        "kind": data.kind,
        "reason": data.reason[:500],
        "subject": data.original_key[:256],
        "processor": data.processor[:40],
        "topic": data.source_topic,
        "partition": data.source_partition,
        "offset": data.source_offset,
        "event_id": str(original.id) if original else None,
        "event_type": original.type[:100] if original else None,
        "original": data.original,
        "original_size": data.original_size,
        "first_seen": event.time,
        "cleared_at": None,
    }


def original_event(encoded: str) -> Event[EventData] | None:
    """The event a dead letter's `original` (base64) holds, or None for bytes that are no event."""
    try:
        return decode(base64.b64decode(encoded, validate=True))
    except (DecodeError, binascii.Error, ValueError):
        return None


def is_without_eta(data: OrderBackordered) -> bool:
    return data.eta is None and all(line.eta is None for line in data.lines)


def clears_backorder(event: Event[EventData]) -> bool:
    """True for a decision after which an order's backorder no longer waits without an ETA."""
    data = event.data
    if isinstance(data, OrderBackordered):
        return not is_without_eta(data)
    return isinstance(data, OrderBackorderCleared | OrderCancelled | OrderConfirmed)


def retry_row(record: Record, event: Event[EventData]) -> Row:
    return {
        "retry_id": str(event.id),
        "item_id": event.causationid,
        "type": event.type[:100],
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
    } | {"time": event.time}


def effect_row(event: Event[EventData]) -> Row:
    return {
        "effect_id": str(event.id),
        "cause_id": event.causationid,
        "item_id": event.correlationid,
        "type": event.type[:100],
        "time": event.time,
    }


def _row(record: Record, event: Event[EventData], category: str, kind: str, reason: str) -> Row:
    return {
        "item_id": str(event.id),
        "category": category,
        "kind": kind,
        "reason": reason[:500],
        "subject": event.subject[:256],
        "processor": None,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "original": None,
        "original_size": None,
        "first_seen": event.time,
        "cleared_at": None,
    }


def _known_items(conn: Connection, ids: set[str]) -> set[str]:
    """Those of `ids` that are items a person can retry (a backorder is cleared by stock, never retried)."""
    if not ids:
        return set()
    t = desk_items.c
    found = conn.execute(select(t.item_id).where(t.item_id.in_(sorted(ids)), t.category != "backorder"))
    return {str(item_id) for item_id in found.scalars()}


def _clear_backorders(conn: Connection, record: Record, event: Event[EventData]) -> None:
    """Clear the order's backorders before `record` (by position: an order's decisions share one partition, so the
    rows come out the same whatever the batches were)."""
    t = desk_items.c
    earlier = and_(t.topic == record.topic, t.partition == record.partition, t.offset < record.offset)
    waiting = and_(t.category == "backorder", t.subject == event.subject, t.cleared_at.is_(None), earlier)
    conn.execute(update(desk_items).where(waiting).values(cleared_at=event.time))
