"""The deliverer's steps on SQL, each one transaction on the caller's connection.

- `enqueue_records`: the deliveries a batch of Kafka records makes, and the batch's positions, together: a kill
  either keeps both or neither, so no record is skipped and none is queued twice (a delivery's id derives from the
  subscription and the event id, and a second insert of it is dropped).
- `due_deliveries`: the head of every line (one subscription, one ordering key) whose next attempt is due; a
  line's later deliveries wait behind it, other lines do not.
- `record_attempt`: an attempt's outcome, guarded by the attempt count it was sent at, so a success is recorded
  once; a failure schedules the next attempt in the row itself (a kill mid-retry resumes from there).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import Connection, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql.webhook_tables import (
    ACTIVE,
    DELIVERED,
    FAILED,
    PAUSED,
    PENDING,
    webhook_attempts,
    webhook_deliveries,
    webhook_positions,
    webhook_subscriptions,
)
from pipeline.rules.webhook_delivery import Backoff, is_given_up, is_success, matches_any, should_pause
from projections.rows import upsert

log = logging.getLogger(__name__)

DELIVERY_NAMESPACE = uuid.UUID("5b0e7a52-8d1f-4f4e-9a57-3c2d0c6e9b11")
Position = tuple[str, int]


@dataclass(frozen=True)
class Consumed:
    """A Kafka record as the deliverer takes it: where it sits, its key and its bytes."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes


@dataclass(frozen=True)
class Due:
    delivery_id: str
    subscription_id: str
    event_id: str
    body: str
    attempts: int
    first_attempt_at: datetime | None
    url: str
    secret: str


def delivery_id(subscription_id: str, event_id: str) -> str:
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{subscription_id}:{event_id}"))


def tracked_positions(conn: Connection) -> dict[Position, int]:
    rows = conn.execute(select(webhook_positions.c.topic, webhook_positions.c.partition, webhook_positions.c.offset))
    return {(topic, partition): offset for topic, partition, offset in rows}


def enqueue_records(conn: Connection, records: Sequence[Consumed], now: datetime) -> int:
    """Queue a delivery of each record to every live subscription whose patterns name its type (a paused one's
    wait until it resumes), record the positions; return the deliveries queued."""
    subscriptions = conn.execute(
        select(webhook_subscriptions.c.subscription_id, webhook_subscriptions.c.event_types).where(
            webhook_subscriptions.c.status.in_((ACTIVE, PAUSED))
        )
    ).all()
    rows = []
    for record in records:
        envelope = _envelope(record.value)
        if envelope is None:
            continue  # not a CloudEvent: the processors dead-letter it; nothing a subscriber can take
        for subscription_id, patterns in subscriptions:
            if matches_any(patterns, envelope["type"]):
                rows.append(_delivery_row(subscription_id, record, envelope, now))
    queued = _insert_new(conn, rows)
    _advance_positions(conn, records)
    return queued


def _insert_new(conn: Connection, rows: list[dict[str, object]]) -> int:
    """Insert the deliveries not queued yet, in the given order (their `seq`); return how many were new."""
    if not rows:
        return 0
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(webhook_deliveries).on_conflict_do_nothing().returning(webhook_deliveries.c.seq)
    return len(conn.execute(statement, rows).all())


def _advance_positions(conn: Connection, records: Sequence[Consumed]) -> None:
    """Record the last offset taken per partition; never backwards (a redelivered batch is older than the last)."""
    ends = tracked_positions(conn)
    moved: dict[Position, int] = {}
    for r in records:
        if r.offset > max(ends.get((r.topic, r.partition), -1), moved.get((r.topic, r.partition), -1)):
            moved[(r.topic, r.partition)] = r.offset
    upsert(conn, webhook_positions, [{"topic": t, "partition": p, "offset": o} for (t, p), o in moved.items()])


def _envelope(value: bytes) -> dict[str, str] | None:
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(parsed, dict) or not all(isinstance(parsed.get(k), str) for k in ("id", "type")):
        return None
    return {k: v for k, v in parsed.items() if k in ("id", "type", "time", "subject") and isinstance(v, str)}


def _delivery_row(subscription_id: str, record: Consumed, envelope: dict[str, str], now: datetime) -> dict[str, object]:
    return {
        "delivery_id": delivery_id(subscription_id, envelope["id"]),
        "subscription_id": subscription_id,
        "event_id": envelope["id"],
        "event_type": envelope["type"],
        "ordering_key": record.key or envelope.get("subject") or "",
        "event_time": _instant(envelope.get("time")),
        "body": record.value.decode("utf-8", errors="replace"),
        "status": PENDING,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


def _instant(text: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment and moment.tzinfo else None


def due_deliveries(conn: Connection, now: datetime, limit: int) -> list[Due]:
    d, s = webhook_deliveries, webhook_subscriptions
    ahead = webhook_deliveries.alias("ahead")
    head_of_line = (
        select(func.min(ahead.c.seq))
        .where(
            ahead.c.subscription_id == d.c.subscription_id,
            ahead.c.ordering_key == d.c.ordering_key,
            ahead.c.status == PENDING,
        )
        .scalar_subquery()
    )
    query = (
        select(d.c.delivery_id, d.c.subscription_id, d.c.event_id, d.c.body, d.c.attempts, d.c.first_attempt_at)
        .add_columns(s.c.url, s.c.secret)
        .join(s, s.c.subscription_id == d.c.subscription_id)
        .where(s.c.status == ACTIVE, d.c.status == PENDING, d.c.next_attempt_at <= now, d.c.seq == head_of_line)
        .order_by(d.c.next_attempt_at, d.c.seq)
        .limit(limit)
    )
    return [Due(**row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True)
class Outcome:
    recorded: bool  # False: the delivery had moved on (another attempt was recorded first); nothing written
    status: str
    paused: bool = False


def record_attempt(
    conn: Connection,
    due: Due,
    *,
    status_code: int | None,
    latency_ms: int,
    error: str | None,
    now: datetime,
    backoff: Backoff,
    pause_after: int,
) -> Outcome:
    attempt = due.attempts + 1
    first = due.first_attempt_at or now
    succeeded = is_success(status_code)
    status = DELIVERED if succeeded else FAILED if is_given_up(first, now) else PENDING
    changes: dict[str, object] = {
        "status": status,
        "attempts": attempt,
        "first_attempt_at": first,
        "last_attempt_at": now,
        "response_code": status_code,
        "latency_ms": latency_ms,
        "last_error": error,
        "next_attempt_at": now if succeeded else now + backoff.delay(attempt),
    }
    if succeeded:
        changes["delivered_at"] = now
    d = webhook_deliveries.c
    guard = and_(d.delivery_id == due.delivery_id, d.status == PENDING, d.attempts == due.attempts)
    if conn.execute(update(webhook_deliveries).where(guard).values(changes)).rowcount != 1:
        return Outcome(False, status)
    conn.execute(
        webhook_attempts.insert().values(
            delivery_id=due.delivery_id,
            attempt=attempt,
            at=now,
            response_code=status_code,
            latency_ms=latency_ms,
            error=error,
        )
    )
    return Outcome(True, status, _count_for_subscription(conn, due.subscription_id, succeeded, now, pause_after))


def _count_for_subscription(
    conn: Connection, subscription_id: str, succeeded: bool, now: datetime, pause_after: int
) -> bool:
    """Reset or bump the subscription's failures in a row; True when this failure paused it."""
    s = webhook_subscriptions.c
    mine = s.subscription_id == subscription_id
    if succeeded:
        conn.execute(update(webhook_subscriptions).where(mine, s.failures_in_a_row != 0).values(failures_in_a_row=0))
        return False
    failures = conn.execute(
        update(webhook_subscriptions)
        .where(mine)
        .values(failures_in_a_row=s.failures_in_a_row + 1)
        .returning(s.failures_in_a_row, s.status)
    ).one()
    if failures.status == ACTIVE and should_pause(failures.failures_in_a_row, pause_after):
        conn.execute(update(webhook_subscriptions).where(mine).values(status=PAUSED, paused_at=now))
        return True
    return False
