"""The webhook deliverer (`oms deliver`): a stream processor from the public topics to subscribers' URLs.

Two loops share one database. The consumer queues each record's deliveries and records its position in one
transaction (the database, not Kafka's committed offsets, says where to resume). The sender posts the head of every
line (one subscription, one ordering key: the order id, or the sku on `oms.inventory`) that is due, and records each
outcome in one transaction. A kill anywhere loses nothing: a delivery sent but not yet recorded is sent again with
the same `webhook-id` (at least once), and a success is recorded once (`adapters.sql.webhook_queue`).

Run one deliverer per database: two would both send the head of a line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import Engine

from adapters.kafka.admin import ensure_topics
from adapters.kafka.projection_runner import SeekToTracked
from adapters.outbound.webhook_sender import WebhookSender
from adapters.sql.webhook_queue import (
    Consumed,
    Due,
    Outcome,
    due_deliveries,
    enqueue_records,
    record_attempt,
    tracked_positions,
)
from adapters.sql.webhook_tables import create_webhook_tables
from events import topics
from pipeline.rules.webhook_delivery import PAUSE_AFTER_FAILURES, Backoff

log = logging.getLogger(__name__)

WEBHOOK_TOPICS = (topics.ORDERS, topics.INVENTORY, topics.SHIPMENTS, topics.NOTIFICATIONS)
"""The public topics whose events subscribers can take (dead letters are not events; they stay on the desk)."""


class DelivererMetrics:
    """The deliverer's counters, in its own registry (`oms deliver --metrics-port` serves it)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.attempts = Counter(
            "oms_webhook_attempts", "Webhook requests by outcome (delivered, retry, failed).", ["outcome"],
            registry=self.registry,
        )  # fmt: skip
        self.paused = Counter(
            "oms_webhook_subscriptions_paused", "Subscriptions paused for failing too many times in a row.",
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram("oms_webhook_latency_seconds", "Webhook request latency.", registry=self.registry)


@dataclass
class WebhookDeliverer:
    engine: Engine
    bootstrap: str
    sender: WebhookSender
    topic_prefix: str = ""
    backoff: Backoff = field(default_factory=Backoff)
    pause_after: int = PAUSE_AFTER_FAILURES
    concurrency: int = 32
    idle_poll_s: float = 0.1
    batch_size: int = 500
    partitions: int = 8
    replication_factor: int = 1
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    metrics: DelivererMetrics = field(default_factory=DelivererMetrics)

    @property
    def topic_names(self) -> list[str]:
        return [f"{self.topic_prefix}{name}" for name in WEBHOOK_TOPICS]

    @property
    def group(self) -> str:
        return f"{self.topic_prefix}oms-webhooks"

    def prepare(self) -> None:
        with self.engine.begin() as conn:
            create_webhook_tables(conn)

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.to_thread(self.prepare)
        await ensure_topics(self.bootstrap, self.topic_names, self.partitions, self.replication_factor)
        await self.sender.start()
        try:
            await asyncio.gather(self._consume(stop), self._send(stop))
        finally:
            await self.sender.stop()

    # -- from Kafka into the queue ------------------------------------------------------------------------------

    def positions(self) -> dict[tuple[str, int], int]:
        with self.engine.connect() as conn:
            return tracked_positions(conn)

    def enqueue(self, records: Sequence[Consumed]) -> int:
        with self.engine.begin() as conn:
            return enqueue_records(conn, records, self.clock())

    async def _consume(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            client_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=6000,
            heartbeat_interval_ms=1500,
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        try:
            consumer.subscribe(self.topic_names, listener=SeekToTracked(consumer, "oms deliver", self.positions))
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
                records = [
                    Consumed(m.topic, m.partition, m.offset, m.key.decode(errors="replace") if m.key else None, m.value)
                    for tp in sorted(batch, key=lambda tp: (tp.topic, tp.partition))
                    for m in batch[tp]
                    if m.value is not None
                ]
                if records:
                    await asyncio.to_thread(self.enqueue, records)
        finally:
            await consumer.stop()

    # -- from the queue to the subscribers ----------------------------------------------------------------------

    def due(self, limit: int) -> list[Due]:
        with self.engine.connect() as conn:
            return due_deliveries(conn, self.clock(), limit)

    async def _send(self, stop: asyncio.Event) -> None:
        """Keep up to `concurrency` requests in flight; a slow subscriber holds its own lines only."""
        in_flight: dict[str, asyncio.Task[None]] = {}
        try:
            while not stop.is_set():
                if len(in_flight) < self.concurrency:
                    # a line's head in flight is still its head (pending): left out here, its line waits behind it
                    for item in await asyncio.to_thread(self.due, self.concurrency + len(in_flight)):
                        if len(in_flight) < self.concurrency and item.delivery_id not in in_flight:
                            in_flight[item.delivery_id] = asyncio.create_task(self._deliver(item))
                if not in_flight:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.idle_poll_s)
                    continue
                done, _ = await asyncio.wait(
                    in_flight.values(), timeout=self.idle_poll_s, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    task.result()  # a database error stops the deliverer; what it had recorded stays
                in_flight = {key: task for key, task in in_flight.items() if task not in done}
        finally:
            if in_flight:  # let the requests under way finish and be recorded (each within the timeout)
                await asyncio.gather(*in_flight.values(), return_exceptions=True)

    async def _deliver(self, due: Due) -> None:
        attempt = await self.sender.send(due.url, due.secret, due.event_id, due.body)
        outcome = await asyncio.to_thread(self._record, due, attempt.status_code, attempt.latency_ms, attempt.error)
        self.metrics.latency.observe(attempt.latency_ms / 1000)
        if outcome.recorded:
            self.metrics.attempts.labels(outcome.status.replace("pending", "retry")).inc()
        if outcome.paused:
            self.metrics.paused.inc()
            # no URL in the log: it may carry the subscriber's token
            log.warning(
                "webhook subscription %s paused after %d failed attempts in a row; "
                "`oms webhooks resume %s` once it answers again (its deliveries wait, none is lost)",
                due.subscription_id,
                self.pause_after,
                due.subscription_id,
            )

    def _record(self, due: Due, status_code: int | None, latency_ms: int, error: str | None) -> Outcome:
        with self.engine.begin() as conn:
            return record_attempt(
                conn,
                due,
                status_code=status_code,
                latency_ms=latency_ms,
                error=error,
                now=self.clock(),
                backoff=self.backoff,
                pause_after=self.pause_after,
            )
