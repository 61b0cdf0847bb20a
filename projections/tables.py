"""The tables of every view, the history archive and the tracking records, as SQLAlchemy Core.

Money is kept as a decimal string (exact on SQLite and PostgreSQL alike); times are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Dialect,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant on every backend (SQLite stores it naive, we give the zone back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        instant: datetime = value
        return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


Money = String(40)

metadata = MetaData()

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("status", String(20)),
    Column("channel", String(40)),
    Column("external_ref", String(128)),
    Column("customer_key", String(254), index=True),
    Column("customer_email", String(254), index=True),
    Column("customer_name", String(200)),
    Column("customer_language", String(8)),
    Column("fulfilment", String(12)),
    Column("capture", String(12)),
    Column("lines", JSON, nullable=False),
    # the ledger: what the order costs now, its payments and what the customer still owes
    Column("total_amount", Money),
    Column("shipping_charge", Money),
    Column("currency", String(3)),
    Column("payment_status", String(20)),
    Column("authorized_amount", Money),
    Column("captured_amount", Money),
    Column("refunded_amount", Money),
    Column("refunded_for_goods", Money),
    Column("settling", JSON),  # the decision settled last against what the shop conceded (order_concessions)
    Column("balance_due", Money),
    Column("payments", JSON, nullable=False),
    Column("parcels", JSON, nullable=False),
    Column("returns", JSON, nullable=False),
    Column("credited_by", JSON, nullable=False),
    Column("placed_at", UtcDateTime, index=True),
    Column("awaiting_payment_at", UtcDateTime),
    Column("payment_due_at", UtcDateTime),
    Column("paid_at", UtcDateTime),
    Column("backordered_at", UtcDateTime),
    Column("backordered_units", Integer, nullable=False, default=0),
    Column("confirmed_at", UtcDateTime),
    Column("shipped_at", UtcDateTime),
    Column("delivered_at", UtcDateTime),
    Column("cancelled_at", UtcDateTime),
    Column("return_requested_at", UtcDateTime),
    Column("returned_at", UtcDateTime),
    Column("carrier", String(40)),
    Column("tracking_number", String(64)),
    Column("tracking_url", String(500)),
    Column("eta", UtcDateTime),
    Column("cancellation_reason", String(200)),
    Column("placed_event_id", String(36)),  # the placement the row applied: its dead letter takes the order away
    Column("updated_at", UtcDateTime),
)
Index("ix_orders_status_placed", orders.c.status, orders.c.placed_at)
# the orders list's keyset orders: newest or oldest placed, and most recently updated (order id breaks ties)
Index("ix_orders_placed_order", orders.c.placed_at, orders.c.order_id)
Index("ix_orders_updated_order", orders.c.updated_at, orders.c.order_id)
# the overview's stuck lists (confirmed and unshipped; backordered past an ETA) and the analytics' orders per channel
Index("ix_orders_status_confirmed", orders.c.status, orders.c.confirmed_at)
Index("ix_orders_status_eta", orders.c.status, orders.c.eta)
Index("ix_orders_channel_placed", orders.c.channel, orders.c.placed_at)

order_timeline = Table(
    "order_timeline",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("order_id", String(64), nullable=False, index=True),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("type", String(60), nullable=False),
    Column("time", UtcDateTime, nullable=False),
    Column("summary", String(500), nullable=False),
    # set when the processor refused this request (`oms.order.request_refused`), or dead-lettered the record (the
    # dead letter's kind and reason): a dead-lettered record changed nothing, and another copy of its event id may
    # still come and take its place
    Column("refusal_code", String(40)),
    Column("refusal_reason", String(500)),
    Column("dead_lettered", Boolean, nullable=False, default=False),
    Column("actor", String(80)),  # who asked, for an ops action (the event's `actor`); null for everything else
)
# a dead letter names the record it refused by its position
Index("ix_order_timeline_position", order_timeline.c.topic, order_timeline.c.partition, order_timeline.c.offset)
# the dashboard's feed: the latest shipments and notifications, read backwards in time until the page is full
Index("ix_order_timeline_time", order_timeline.c.time)

customers = Table(
    "customers",
    metadata,
    Column("customer_key", String(254), primary_key=True),
    Column("email", String(254), index=True),
    Column("anonymous", Boolean, nullable=False),
    Column("name", String(200)),
    Column("language", String(8)),
    Column("orders_count", Integer, nullable=False),
    Column("cancelled_count", Integer, nullable=False),
    Column("total_spend", Money, nullable=False),
    Column("currency", String(3)),
    Column("first_order_at", UtcDateTime),
    Column("last_order_at", UtcDateTime),
    Column("channels", JSON, nullable=False),
)

sales_daily = Table(
    "sales_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("channel", String(40), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("orders", Integer, nullable=False),
    Column("units", Integer, nullable=False),
    Column("revenue", Money, nullable=False),
    Column("cancelled_units", Integer, nullable=False),
)

inventory = Table(
    "inventory",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("available", Integer, nullable=False),
    Column("incoming", JSON, nullable=False),
    Column("incoming_qty", Integer, nullable=False),
    Column("next_eta", UtcDateTime),
    Column("backorders", JSON, nullable=False),
    Column("backordered_qty", Integer, nullable=False),
    Column("reorder_point", Integer),
    Column("reorder_qty", Integer),
    Column("is_low", Boolean, nullable=False),
    Column("suggested_reorder_qty", Integer, nullable=False),
    Column("low_signalled_at", UtcDateTime),
    Column("updated_at", UtcDateTime),
)

stock_inputs = Table(
    "stock_inputs",
    metadata,
    # what others told the inventory processor and the inventory view applied (receipts, counts, returns, purchase
    # orders, reorder policies): kept so that its dead letter, coming later, can take one back exactly
    Column("topic", String(200), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, primary_key=True),
    Column("sku", String(64), nullable=False, index=True),
    Column("event_id", String(36), nullable=False),
    Column("value", Text, nullable=False),
)

archive = Table(
    "event_archive",
    metadata,
    Column("topic", String(200), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, primary_key=True),
    Column("event_id", String(36), index=True),
    Column("type", String(60)),
    Column("time", UtcDateTime, index=True),
    Column("key", String(200)),
    Column("order_id", String(64), index=True),
    Column("value", Text, nullable=False),
)
Index("ix_event_archive_key_time", archive.c.key, archive.c.time)

tracking = Table(
    "projection_tracking",
    metadata,
    Column("projection", String(60), primary_key=True),
    Column("topic", String(200), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, nullable=False),
)

seen_events = Table(
    "projection_seen_events",
    metadata,
    Column("projection", String(60), primary_key=True),
    Column("event_id", String(36), primary_key=True),
)

refusals = Table(
    "projection_refusals",
    metadata,
    # the records a view's owning processor dead-lettered, by position: left out of the view's fold
    Column("projection", String(60), primary_key=True),
    Column("topic", String(200), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("reason", String(500), nullable=False),
)

refused_copies = Table(
    "projection_copies",
    metadata,
    # records a view took for redeliveries of an id it had (dropped), of the kinds the owning processor may refuse:
    # should the record it took be dead-lettered, the next copy is the one the processor took
    Column("projection", String(60), primary_key=True),
    Column("topic", String(200), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, primary_key=True),
    Column("event_id", String(36), nullable=False),
    Column("value", Text, nullable=False),
)
Index("ix_projection_copies_event", refused_copies.c.projection, refused_copies.c.event_id)

desk_items = Table(
    "desk_items",
    metadata,
    # the exceptions desk: what needs a person. A dead letter (id: the dead letter's), a refused request (the
    # refusal's), a backorder without an ETA (the backorder's). `event_id`/`event_type` name the event in question
    # (the original a dead letter decodes to, the request refused); topic/partition/offset the record in question
    Column("item_id", String(36), primary_key=True),
    Column("category", String(20), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("subject", String(256), nullable=False),
    Column("processor", String(40)),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("event_id", String(36), index=True),
    Column("event_type", String(100)),
    Column("original", Text),
    Column("original_size", Integer),
    Column("first_seen", UtcDateTime, nullable=False, index=True),
    Column("cleared_at", UtcDateTime),  # a backorder that got its stock, its ETA, or was cancelled
)

desk_retries = Table(
    "desk_retries",
    metadata,
    # events caused by a desk item (`causationid` is the item's id): the retries the desk published
    Column("retry_id", String(36), primary_key=True),
    Column("item_id", String(36), nullable=False, index=True),
    Column("type", String(100), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("time", UtcDateTime, nullable=False),
)

desk_effects = Table(
    "desk_effects",
    metadata,
    # the pipeline's decisions in a retry's story (`correlationid` is a desk item's id): what became of a retry
    Column("effect_id", String(36), primary_key=True),
    Column("cause_id", String(36), nullable=False, index=True),
    Column("item_id", String(36), nullable=False),
    Column("type", String(100), nullable=False),
    Column("time", UtcDateTime, nullable=False),
)

view_schemas = Table(
    "projection_schema",
    metadata,
    Column("projection", String(60), primary_key=True),
    Column("version", Integer, nullable=False),
)


def create_tables(bind: Engine | Connection, tables: Sequence[Table] | None = None) -> None:
    """Create the given tables (all when None) and the tracking tables, if missing."""
    wanted = None if tables is None else [*tables, tracking, seen_events, refusals, refused_copies, view_schemas]
    metadata.create_all(bind, tables=wanted)
