"""Webhook subscriptions and their delivery log, as the API, the CLI and the dashboard use them.

A redelivery is a new delivery of the same event (same `webhook-id`, so a receiver that has it drops it) at the
back of its line: the original's one recorded success, or its failure, stays as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, func, insert, inspect, select, update

from adapters.sql.engines import engine_for
from adapters.sql.webhook_tables import (
    ACTIVE,
    DELIVERED,
    PAUSED,
    PENDING,
    REMOVED,
    create_webhook_tables,
    webhook_attempts,
    webhook_deliveries,
    webhook_subscriptions,
)
from pipeline.rules.webhook_delivery import check_pattern, check_secret, new_secret

LOG_COLUMNS = (
    "delivery_id",
    "event_id",
    "event_type",
    "ordering_key",
    "status",
    "attempts",
    "response_code",
    "latency_ms",
    "last_error",
    "created_at",
    "last_attempt_at",
    "delivered_at",
    "next_attempt_at",
    "redelivery_of",
)


class BadSubscription(ValueError):
    """A subscription asked for with a url, pattern or secret that cannot work: `field` says which."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    url: str
    event_types: list[str]
    description: str
    status: str
    created_at: datetime
    failures_in_a_row: int
    paused_at: datetime | None
    secret: str = field(repr=False)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebhookStore:
    """Subscriptions and deliveries in the views database. The tables are made on first use."""

    engine: Engine
    _ready: bool = field(default=False, init=False, repr=False)

    @classmethod
    def from_url(cls, url: str) -> WebhookStore:
        return cls(engine_for(url))

    def prepare(self) -> None:
        if not self._ready:
            with self.engine.begin() as conn:
                create_webhook_tables(conn)
            self._ready = True

    def subscribe(
        self, url: str, event_types: Sequence[str], secret: str | None = None, description: str = ""
    ) -> Subscription:
        """A new active subscription; without `secret` one is made (shown once, in what this returns)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadSubscription("url", "give an http:// or https:// address")
        if not event_types:
            raise BadSubscription("event_types", "give at least one pattern (e.g. oms.order.*)")
        try:
            patterns = sorted({check_pattern(pattern) for pattern in event_types})
        except ValueError as error:
            raise BadSubscription("event_types", str(error)) from None
        try:
            secret = check_secret(secret) if secret is not None else new_secret()
        except ValueError as error:
            raise BadSubscription("secret", str(error)) from None
        row = {
            "subscription_id": str(uuid.uuid4()),
            "url": url,
            "event_types": patterns,
            "secret": secret,
            "description": description,
            "status": ACTIVE,
            "created_at": _now(),
            "failures_in_a_row": 0,
            "paused_at": None,
        }
        self.prepare()
        with self.engine.begin() as conn:
            conn.execute(insert(webhook_subscriptions).values(row))
        return Subscription(**row)  # type: ignore[arg-type]

    def subscriptions(self) -> list[Subscription]:
        self.prepare()
        s = webhook_subscriptions.c
        query = select(webhook_subscriptions).where(s.status != REMOVED).order_by(s.created_at)
        with self.engine.connect() as conn:
            return [Subscription(**row) for row in conn.execute(query).mappings()]

    def subscription(self, subscription_id: str) -> Subscription | None:
        """The live subscription `subscription_id` (a removed one is gone), or None."""
        self.prepare()
        s = webhook_subscriptions.c
        query = select(webhook_subscriptions).where(s.subscription_id == subscription_id, s.status != REMOVED)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return Subscription(**row) if row is not None else None

    def set_status(self, subscription_id: str, status: str) -> bool:
        """Resume (`active`), pause or remove a subscription; False when there is no such live one."""
        s = webhook_subscriptions.c
        values: dict[str, Any] = {"status": status}
        if status == ACTIVE:
            values |= {"failures_in_a_row": 0, "paused_at": None}
        elif status == PAUSED:
            values["paused_at"] = _now()
        self.prepare()
        with self.engine.begin() as conn:
            found = conn.execute(
                update(webhook_subscriptions)
                .where(s.subscription_id == subscription_id, s.status != REMOVED)
                .values(values)
            )
        return found.rowcount == 1

    def deliveries(
        self, subscription_id: str, *, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """The subscription's delivery log, newest first, and how many there are in all."""
        self.prepare()
        d = webhook_deliveries.c
        where = [d.subscription_id == subscription_id] + ([d.status == status] if status else [])
        query = select(*(d[name] for name in LOG_COLUMNS)).where(*where).order_by(d.seq.desc())
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(webhook_deliveries).where(*where)).scalar_one()
            rows = [_plain(row) for row in conn.execute(query.limit(limit).offset(offset)).mappings()]
        return rows, total

    def delivery(self, subscription_id: str, delivery_id: str) -> dict[str, Any] | None:
        self.prepare()
        d = webhook_deliveries.c
        query = select(*(d[name] for name in LOG_COLUMNS)).where(
            d.subscription_id == subscription_id, d.delivery_id == delivery_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _plain(row) if row is not None else None

    def attempts(self, delivery_id: str) -> list[dict[str, Any]]:
        a = webhook_attempts.c
        self.prepare()
        with self.engine.connect() as conn:
            query = select(webhook_attempts).where(a.delivery_id == delivery_id).order_by(a.attempt)
            return [_plain(row) for row in conn.execute(query).mappings()]

    def waiting_figures(self) -> tuple[dict[str, int], dict[str, int]] | None:
        """Live subscriptions by status, and deliveries not delivered by status (pending, failed), for `/metrics`;
        nothing when no webhook was ever set up here (the tables are not made by reading)."""
        if not inspect(self.engine).has_table(webhook_subscriptions.name):
            return None
        s, d = webhook_subscriptions.c, webhook_deliveries.c
        with self.engine.connect() as conn:
            subscriptions = conn.execute(select(s.status, func.count()).where(s.status != REMOVED).group_by(s.status))
            waiting = conn.execute(select(d.status, func.count()).where(d.status != DELIVERED).group_by(d.status))
            return dict(subscriptions.tuples().all()), dict(waiting.tuples().all())

    def redeliver(self, subscription_id: str, delivery_id: str) -> str | None:
        """Queue the delivery's event again; the new delivery's id, or None when there is no such delivery."""
        d = webhook_deliveries.c
        query = select(webhook_deliveries).where(d.subscription_id == subscription_id, d.delivery_id == delivery_id)
        return next(iter(self._redeliver(query)), None)

    def redeliver_since(self, subscription_id: str, since: datetime) -> list[str]:
        """Queue again every event delivered (or not) to the subscription whose time is `since` or later."""
        d = webhook_deliveries.c
        originals = select(webhook_deliveries).where(
            d.subscription_id == subscription_id,
            d.redelivery_of.is_(None),
            func.coalesce(d.event_time, d.created_at) >= since,
        )
        return self._redeliver(originals.order_by(d.seq))

    def _redeliver(self, query: Any) -> list[str]:
        now = _now()
        self.prepare()
        with self.engine.begin() as conn:
            rows = [dict(row) for row in conn.execute(query).mappings()]
            again = [_again(row, now) for row in rows]
            if again:
                conn.execute(insert(webhook_deliveries), again)
        return [row["delivery_id"] for row in again]


def _again(original: dict[str, Any], now: datetime) -> dict[str, Any]:
    kept = ("subscription_id", "event_id", "event_type", "ordering_key", "event_time", "body")
    return {name: original[name] for name in kept} | {
        "delivery_id": str(uuid.uuid4()),
        "redelivery_of": original["redelivery_of"] or original["delivery_id"],
        "status": PENDING,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


def _plain(row: Any) -> dict[str, Any]:
    """A row as a dict with `str` keys (SQLAlchemy's are `quoted_name`, which orjson refuses)."""
    return {str(name): value for name, value in row.items()}
