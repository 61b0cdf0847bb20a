"""What the stream processors need to know, handed in by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from events import topics

STAGE_TABLES = ("sku_to_stock", "order_to_state", "order_to_shipments", "order_to_notifications")
"""The state of each stage (inventory, orders, shipping, notify), by the name of its changelog."""


@dataclass(frozen=True)
class PipelineConfig:
    bootstrap: str
    topic_prefix: str = ""
    partitions: int = 8
    payment_timeout: timedelta = timedelta(minutes=30)
    split_shipments: bool = False
    batch_size: int = 500
    batch_within_s: float = 0.025
    timer_interval_s: float = 1.0
    io_concurrency: int = 16  # orders whose carrier booking or notification is awaited at once, per stage
    carrier_attempts: int = 5
    carrier_backoff_s: float = 0.2
    session_timeout_s: float = 10.0
    fetch_max_wait_ms: int = 25  # see pipeline/runtime/faust_internals.py
    app_name: str = "oms-pipeline"
    data_dir: str = "."

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
