"""The outbound webhooks' tables, beside the views: subscriptions, the delivery queue that is also the delivery
log, each attempt, and the deliverer's consumed positions.

A delivery row is written in the same transaction as the position of the record it came from, and its pending
state (attempts, next attempt due) lives in the row: a deliverer killed mid-retry resumes from here.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from projections.tables import UtcDateTime

metadata = MetaData()

ACTIVE, PAUSED, REMOVED = "active", "paused", "removed"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("subscription_id", String(36), primary_key=True),
    Column("url", Text, nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("secret", Text, nullable=False),  # needed to sign, so kept as given (a database secret, like the views)
    Column("description", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("failures_in_a_row", Integer, nullable=False, default=0),
    Column("paused_at", UtcDateTime),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    # Insertion order: of one subscription's deliveries with one key, the smallest pending `seq` goes first.
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), nullable=False, unique=True),
    Column("subscription_id", String(36), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("ordering_key", Text, nullable=False),
    Column("event_time", UtcDateTime),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    Column("first_attempt_at", UtcDateTime),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_attempt_at", UtcDateTime),
    Column("delivered_at", UtcDateTime),
    Column("response_code", Integer),
    Column("latency_ms", Integer),
    Column("last_error", Text),
    Column("redelivery_of", String(36)),
    Index("ix_webhook_deliveries_line", "subscription_id", "ordering_key", "status", "seq"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_event", "subscription_id", "event_id"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", String(36), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("response_code", Integer),
    Column("latency_ms", Integer, nullable=False),
    Column("error", Text),
)

webhook_positions = Table(
    "webhook_positions",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, nullable=False),
)


def create_webhook_tables(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)
