"""What the stream processors need to know, handed in by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from events import topics

STAGE_TABLES = ("sku_to_stock", "order_to_state", "order_to_shipments", "order_to_notifications")
"""The state of each stage (inventory, orders, shipping, notify), by the name of its changelog."""


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    """Every value a setting decides has no default here: the composition root reads it from the settings, where
    its one default lives. What remains are the runtime's own tuning values, which no setting changes."""

    bootstrap: str
    topic_prefix: str
    partitions: int
    replication_factor: int  # of the topics the composition root creates for the pipeline
    payment_timeout: timedelta
    split_shipments: bool
    batch_within_s: float
    timer_interval_s: float
    fetch_max_wait_ms: int  # see pipeline/runtime/faust_internals.py
    app_name: str
    data_dir: str
    batch_size: int = 500
    io_concurrency: int = 16  # orders whose carrier booking or notification is awaited at once, per stage
    carrier_attempts: int = 5
    carrier_backoff_s: float = 0.2
    session_timeout_s: float = 10.0

    @property
    def app_id(self) -> str:
        return f"{self.topic_prefix}{self.app_name}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def changelog_topic(self, table: str) -> str:
        """Where a stage writes its per-key state (the name faust gave its table changelogs)."""
        return f"{self.app_id}-{table}-changelog"

    @property
    def order_replies_topic(self) -> str:
        """Internal: the inventory processor's answers, re-keyed by order id for the order processor."""
        return f"{self.topic_prefix}{topics.ORDER_REPLIES}"

    @property
    def shipment_requests_topic(self) -> str:
        """Internal: the order processor's shipment requests, for the shipping stage alone."""
        return f"{self.topic_prefix}{topics.SHIPMENT_REQUESTS}"

    @property
    def deadletter_topic(self) -> str:
        return self.topic(topics.DEADLETTER)
