"""The history archive: every message of every topic, with its topic, partition and offset.

Point-in-time questions are folds of the archive: a sku's stock, or an order, as it was at time T.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, and_, func, or_, select

from events import DecodeError, Event, EventData, decode, topics
from projections.inventory import INVENTORY_PROCESSOR, empty_stock, evolve_stock
from projections.order_refusals import ORDER_PROCESSOR
from projections.orders import FOLDED_TOPICS, evolve_order, is_row_event
from projections.refusals import refusals_by
from projections.rows import Row, insert_new
from projections.tables import archive
from projections.timeline import summary_of


@dataclass(frozen=True)
class Record:
    """One Kafka message as consumed (or as read back from the archive)."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    timestamp_ms: int | None = None


def decoded(value: bytes) -> Event[EventData] | None:
    """The event in `value`, or None for a message the pipeline will have dead-lettered."""
    try:
        return decode(value)
    except DecodeError:
        return None


def archive_row(record: Record, event: Event[EventData] | None) -> Row:
    order_id = getattr(event.data, "order_id", None) if event else None
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "event_id": str(event.id) if event else None,
        "type": event.type if event else _raw_type(record.value),
        "time": event.time if event else None,
        "key": record.key,
        "order_id": order_id,
        "value": record.value.decode("utf-8", errors="replace"),
    }


def _raw_type(value: bytes) -> str | None:
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    kind = parsed.get("type") if isinstance(parsed, dict) else None
    return kind[:60] if isinstance(kind, str) else None


def append(conn: Connection, items: Sequence[tuple[Record, Event[EventData] | None]]) -> None:
    insert_new(conn, archive, [archive_row(record, event) for record, event in items])


ArchiveCursor = tuple[str, int, int]


def read_records(
    conn: Connection,
    *,
    after: ArchiveCursor | None = None,
    limit: int = 5000,
    since: datetime | None = None,
    until: datetime | None = None,
    topic_suffixes: tuple[str, ...] = (),
) -> list[Record]:
    """The next `limit` archived messages after `after`, in (topic, partition, offset) order."""
    query = select(archive.c.topic, archive.c.partition, archive.c.offset, archive.c.key, archive.c.value)
    if after is not None:
        topic, partition, offset = after
        query = query.where(
            or_(
                archive.c.topic > topic,
                and_(archive.c.topic == topic, archive.c.partition > partition),
                and_(archive.c.topic == topic, archive.c.partition == partition, archive.c.offset > offset),
            )
        )
    if since is not None:
        query = query.where(archive.c.time >= since)
    if topic_suffixes:
        query = query.where(or_(*(archive.c.topic.endswith(suffix) for suffix in topic_suffixes)))
    if until is not None:
        query = query.where(archive.c.time <= until)
    query = query.order_by(archive.c.topic, archive.c.partition, archive.c.offset).limit(limit)
    return [Record(t, p, o, k, v.encode()) for t, p, o, k, v in conn.execute(query)]


def records_between(conn: Connection, topic: str, partition: int, first: int, last: int) -> list[Record]:
    """The archived records of one partition from offset `first` to `last`, in log order."""
    where = and_(archive.c.topic == topic, archive.c.partition == partition, archive.c.offset.between(first, last))
    query = select(archive.c.topic, archive.c.partition, archive.c.offset, archive.c.key, archive.c.value).where(where)
    return [Record(t, p, o, k, v.encode()) for t, p, o, k, v in conn.execute(query.order_by(archive.c.offset))]


def iter_records(conn: Connection, batch: int = 5000, **filters: Any) -> Iterator[list[Record]]:
    cursor: ArchiveCursor | None = None
    while True:
        records = read_records(conn, after=cursor, limit=batch, **filters)
        if not records:
            return
        yield records
        last = records[-1]
        cursor = (last.topic, last.partition, last.offset)


def count(conn: Connection, since: datetime | None = None) -> int:
    query = select(func.count()).select_from(archive)
    if since is not None:
        query = query.where(archive.c.time >= since)
    return int(conn.execute(query).scalar_one())


def events_of(
    conn: Connection,
    *,
    key: str,
    topic_suffixes: tuple[str, ...],
    at: datetime | None = None,
    refused_by: str | None = None,
) -> list[Event[EventData]]:
    """The distinct events keyed `key` on the topics ending in `topic_suffixes`, up to `at`: in log order on one
    topic, by time across several (how a projector reading them live would most likely meet them). Left out: events
    on a topic they do not belong to, of another key than the record's, and records the processor `refused_by`
    dead-lettered (whenever it did: it never applied them)."""
    on_topics = or_(*(archive.c.topic.endswith(suffix) for suffix in topic_suffixes))
    query = select(archive.c.topic, archive.c.partition, archive.c.offset, archive.c.value)
    query = query.where(archive.c.key == key, on_topics)
    if at is not None:
        query = query.where(archive.c.time <= at)
    if len(topic_suffixes) > 1:
        query = query.order_by(archive.c.time, archive.c.topic, archive.c.partition, archive.c.offset)
    else:
        query = query.order_by(archive.c.partition, archive.c.offset)
    refused = refused_positions(conn, refused_by, topic_suffixes) if refused_by else set()
    seen: set[str] = set()
    found = []
    for topic, partition, offset, value in conn.execute(query):
        event = None if (topic, partition, offset) in refused else decoded(value.encode())
        if event is None or not topic.endswith(event.data.topic) or event.data.partition_key() != key:
            continue
        if str(event.id) not in seen:
            seen.add(str(event.id))
            found.append(event)
    return found


def refused_positions(conn: Connection, processor: str, topic_suffixes: tuple[str, ...]) -> set[tuple[str, int, int]]:
    """Where the records are that `processor` dead-lettered on the topics ending in `topic_suffixes`."""
    letters = select(archive.c.value).where(archive.c.topic.endswith(topics.DEADLETTER))
    events = (event for (value,) in conn.execute(letters) if (event := decoded(value.encode())) is not None)
    return {refusal.position for refusal in refusals_by(processor, topic_suffixes, events)}


def stock_at(conn: Connection, sku: str, at: datetime | None = None) -> Row:
    """The inventory row of `sku` as it was at `at` (now when None): the fold of its log up to then, less what the
    inventory processor dead-lettered."""
    row = empty_stock(sku)
    for event in events_of(conn, key=sku, topic_suffixes=(topics.INVENTORY,), at=at, refused_by=INVENTORY_PROCESSOR):
        row = evolve_stock(row, event)
    return row


def order_at(conn: Connection, order_id: str, at: datetime | None = None) -> Row | None:
    """The orders row of `order_id` as it was at `at`, or None if it was no order yet (or never: a placement the
    order processor dead-lettered is none)."""
    row: Row | None = None
    for event in events_of(conn, key=order_id, topic_suffixes=FOLDED_TOPICS, at=at, refused_by=ORDER_PROCESSOR):
        if is_row_event(event):
            row = evolve_order(row, event)
    return row


def history_of(conn: Connection, order_id: str) -> list[Row]:
    """Every archived event about `order_id`, on any topic, in time order."""
    query = (
        select(archive.c.topic, archive.c.partition, archive.c.offset, archive.c.event_id, archive.c.type)
        .add_columns(archive.c.time, archive.c.value)
        .where(or_(archive.c.key == order_id, archive.c.order_id == order_id))
        .order_by(archive.c.time, archive.c.topic, archive.c.partition, archive.c.offset)
    )
    rows, seen = [], set()
    for row in conn.execute(query).mappings():
        event = decoded(row["value"].encode())
        if event is None or row["event_id"] in seen:
            continue
        seen.add(row["event_id"])
        rows.append(
            {
                **{k: row[k] for k in ("topic", "partition", "offset", "event_id", "type", "time")},
                "summary": summary_of(event),
            }
        )
    return rows
