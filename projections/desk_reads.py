"""Reads of the exceptions desk: its items with their status, one item with its retries, dead letters by reason.

An item's status is read from the facts the fold kept, never stored: `open` (nothing done yet), `retried` (a retry
is on the log, nothing decided of it yet), `resolved` (the pipeline took the latest retry: it decided something in
reaction; a backorder: it cleared), `failed` (the latest retry was dead-lettered or refused in turn: that is an item
of its own, `retry_item`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from projections.rows import Row
from projections.tables import desk_effects, desk_items, desk_retries

STATUSES = ("open", "retried", "resolved", "failed")
SCAN_LIMIT = 10_000
"""Items a filtered list looks at, newest first (a status is worked out per item, not indexed)."""


@dataclass(frozen=True)
class RetryOutcome:
    retry_id: str
    type: str
    topic: str
    partition: int
    offset: int
    time: datetime
    effects: tuple[str, ...] = ()  # the types the pipeline decided in reaction to it
    retry_item: str | None = None  # the item it became: dead-lettered or refused again

    @property
    def status(self) -> str:
        if self.retry_item is not None:
            return "failed"
        return "resolved" if self.effects else "retried"


@dataclass(frozen=True)
class DeskItem:
    item_id: str
    category: str
    kind: str
    reason: str
    subject: str
    processor: str | None
    topic: str
    partition: int
    offset: int
    event_id: str | None
    event_type: str | None
    original: str | None
    original_size: int | None
    first_seen: datetime
    cleared_at: datetime | None
    retries: tuple[RetryOutcome, ...] = field(default=())
    retry_of: str | None = None  # the item this one is a failed retry of

    @property
    def status(self) -> str:
        if self.category == "backorder":
            return "resolved" if self.cleared_at is not None else "open"
        return self.retries[-1].status if self.retries else "open"

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__} | {"status": self.status}


def list_items(
    conn: Connection,
    *,
    status: str | None = None,
    category: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[DeskItem], int]:
    """A page of items, newest first, and how many match."""
    query = select(desk_items).order_by(desk_items.c.first_seen.desc(), desk_items.c.item_id)
    if category is not None:
        query = query.where(desk_items.c.category == category)
    if status is None:
        total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        return _with_retries(conn, _rows(conn, query.limit(limit).offset(offset))), int(total)
    matching = [item for item in _with_retries(conn, _rows(conn, query.limit(SCAN_LIMIT))) if item.status == status]
    return matching[offset : offset + limit], len(matching)


def get_item(conn: Connection, item_id: str) -> DeskItem | None:
    found = _with_retries(conn, _rows(conn, select(desk_items).where(desk_items.c.item_id == item_id)))
    return found[0] if found else None


def dead_letters_by_reason(conn: Connection) -> dict[tuple[str, str], int]:
    """How many dead letters each processor wrote of each kind."""
    t = desk_items.c
    query = select(t.processor, t.kind, func.count()).where(t.processor.is_not(None)).group_by(t.processor, t.kind)
    return {(str(processor), str(kind)): int(n) for processor, kind, n in conn.execute(query)}


def items_by_status(conn: Connection) -> dict[tuple[str, str], int]:
    """How many items of each category are in each status (of the newest `SCAN_LIMIT`)."""
    counts: dict[tuple[str, str], int] = {}
    query = select(desk_items).order_by(desk_items.c.first_seen.desc()).limit(SCAN_LIMIT)
    for item in _with_retries(conn, _rows(conn, query)):
        counts[(item.category, item.status)] = counts.get((item.category, item.status), 0) + 1
    return counts


def _rows(conn: Connection, query: Any) -> list[Row]:
    return [dict(row) for row in conn.execute(query).mappings()]


def _with_retries(conn: Connection, rows: Sequence[Row]) -> list[DeskItem]:
    retries = _retries_of(conn, [row["item_id"] for row in rows])
    retried = _retried_items(conn, [row["event_id"] for row in rows if row["event_id"]])
    return [
        DeskItem(**row, retries=tuple(retries.get(row["item_id"], ())), retry_of=retried.get(row["event_id"]))
        for row in rows
    ]


def _retried_items(conn: Connection, event_ids: Sequence[str]) -> dict[str, str]:
    """The item each of `event_ids` was a retry of, for those that were."""
    if not event_ids:
        return {}
    r = desk_retries.c
    return {
        str(retry): str(item)
        for retry, item in conn.execute(select(r.retry_id, r.item_id).where(r.retry_id.in_(event_ids)))
    }


def _retries_of(conn: Connection, item_ids: Sequence[str]) -> dict[str, list[RetryOutcome]]:
    if not item_ids:
        return {}
    r = desk_retries.c
    rows = _rows(conn, select(desk_retries).where(r.item_id.in_(item_ids)).order_by(r.time, r.topic, r.offset))
    retry_ids = [row["retry_id"] for row in rows]
    effects: dict[str, list[str]] = {}
    if retry_ids:
        e = desk_effects.c
        for cause, kind in conn.execute(
            select(e.cause_id, e.type).where(e.cause_id.in_(retry_ids)).order_by(e.time, e.effect_id)
        ):
            effects.setdefault(str(cause), []).append(str(kind))
    again = _items_naming(conn, retry_ids)
    found: dict[str, list[RetryOutcome]] = {}
    for row in rows:
        retry_id = row["retry_id"]
        outcome = RetryOutcome(
            retry_id, row["type"], row["topic"], row["partition"], row["offset"], row["time"],
            tuple(effects.get(retry_id, ())), again.get(retry_id),
        )  # fmt: skip
        found.setdefault(row["item_id"], []).append(outcome)
    return found


def _items_naming(conn: Connection, event_ids: Sequence[str]) -> dict[str, str]:
    """The item (a dead letter, a refusal) whose event in question is each of `event_ids`."""
    if not event_ids:
        return {}
    t = desk_items.c
    query = select(t.event_id, t.item_id).where(t.event_id.in_(event_ids)).order_by(t.first_seen, t.item_id)
    found: dict[str, str] = {}
    for event_id, item_id in conn.execute(query):
        found.setdefault(str(event_id), str(item_id))
    return found
