"""Runs projections against Kafka: one consumer group per projection, exactly-once into SQL.

Each `getmany` batch is applied and its positions recorded in ONE database transaction
(`projections.projector.apply_records`). On every partition assignment the consumer seeks to the
tracked offset + 1: the database, not Kafka's committed offsets, is the truth.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from sqlalchemy import Engine

from adapters.kafka.admin import ensure_topics
from adapters.kafka.offsets import log_end_offsets
from projections.archive import Record
from projections.projector import Projection, apply_records, prepare_views
from projections.tracking import Position, tracked_offsets

log = logging.getLogger(__name__)

FETCH_MAX_WAIT_MS = 50
"""The embedded broker holds an empty fetch for the whole wait, even when data arrives meanwhile: aiokafka's
500 ms default put up to half a second on every view update (see pipeline/runtime/faust_internals.py). A projector
waits at least this long (below it, an idle projector only spins)."""


def as_record(message: ConsumerRecord[bytes, bytes]) -> Record:
    key = message.key.decode("utf-8", errors="replace") if message.key is not None else None
    return Record(message.topic, message.partition, message.offset, key, message.value or b"", message.timestamp)


@dataclass
class ProjectionRunner:
    """Feeds one projection from Kafka. `pause_in_transaction_s` holds each transaction open after the
    rows are written and before commit: a fault-injection seam for the crash tests, 0 otherwise."""

    engine: Engine
    projection: Projection
    bootstrap: str
    topic_prefix: str = ""
    batch_size: int = 500
    poll_timeout_ms: int = 200
    group_id: str | None = None
    pause_in_transaction_s: float = 0.0
    fetch_max_wait_ms: int = FETCH_MAX_WAIT_MS
    applied: int = field(default=0, init=False)
    _prepared: bool = field(default=False, init=False, repr=False)

    @property
    def topic_names(self) -> list[str]:
        return [f"{self.topic_prefix}{name}" for name in self.projection.topics]

    @property
    def group(self) -> str:
        return self.group_id or f"{self.topic_prefix}{self.projection.group}"

    def prepare(self) -> None:
        """Create the projection's tables if missing (before any concurrent runner touches the database); views
        another schema version wrote are dropped, and rebuilt from the start of the log."""
        with self.engine.begin() as conn:
            if prepare_views(conn, self.projection):
                log.warning("%s: views of an older schema dropped; rebuilding from the log", self.projection.name)
        self._prepared = True

    def positions(self) -> dict[Position, int]:
        with self.engine.connect() as conn:
            return tracked_offsets(conn, self.projection.name)

    def apply_batch(self, records: Sequence[Record]) -> int:
        """Apply `records` and record their positions in one transaction; return events applied."""
        with self.engine.begin() as conn:
            applied = apply_records(conn, self.projection, records)
            if self.pause_in_transaction_s:
                time.sleep(self.pause_in_transaction_s)
        self.applied += applied
        return applied

    async def run(self, stop: asyncio.Event, *, until_caught_up: bool = False) -> None:
        """Consume until `stop` is set (or, with `until_caught_up`, until the end offsets seen at start)."""
        if not self._prepared:
            await asyncio.to_thread(self.prepare)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            client_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_uncommitted",
            session_timeout_ms=6000,  # a killed projector's partitions move on quickly
            heartbeat_interval_ms=1500,
            fetch_max_wait_ms=self.fetch_max_wait_ms,
        )
        await consumer.start()
        try:
            ends = await log_end_offsets(self.bootstrap, self.topic_names) if until_caught_up else {}
            if until_caught_up and is_caught_up(await asyncio.to_thread(self.positions), ends):
                return  # before joining the group: a join that is cut short stalls the next one
            consumer.subscribe(self.topic_names, listener=SeekToTracked(consumer, self.group, self.positions))
            while not stop.is_set():
                if until_caught_up and is_caught_up(await asyncio.to_thread(self.positions), ends):
                    return
                batch = await consumer.getmany(timeout_ms=self.poll_timeout_ms, max_records=self.batch_size)
                records = [as_record(m) for tp in sorted(batch, key=_tp_order) for m in batch[tp]]
                if records:
                    await asyncio.to_thread(self.apply_batch, records)
        finally:
            await consumer.stop()


def _tp_order(tp: TopicPartition) -> tuple[str, int]:
    return (tp.topic, tp.partition)


class SeekToTracked(ConsumerRebalanceListener):  # type: ignore[misc]
    """On every assignment, seek each partition to the position the database tracks + 1 (the start when it tracks
    none): for a consumer whose database, not Kafka's committed offsets, says how far it got."""

    def __init__(self, consumer: AIOKafkaConsumer, name: str, positions: Callable[[], dict[Position, int]]) -> None:
        self.consumer = consumer
        self.name = name
        self.positions = positions

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        """Nothing to flush: every batch is committed with its positions."""

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        done = await asyncio.to_thread(self.positions)
        for tp in assigned:
            last = done.get((tp.topic, tp.partition))
            if last is None:
                await self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, last + 1)
        log.info("%s assigned %d partitions, resuming from the tracked offsets", self.name, len(done))


def is_caught_up(positions: dict[Position, int], ends: dict[Position, int]) -> bool:
    return all(positions.get(position, -1) + 1 >= end for position, end in ends.items())


async def run_projections(
    runners: Sequence[ProjectionRunner],
    stop: asyncio.Event,
    *,
    partitions: int,
    replication_factor: int,
    until_caught_up: bool = False,
) -> None:
    """Make sure the topics exist, then run every projection until `stop` (or until caught up)."""
    if runners:
        names = sorted({name for runner in runners for name in runner.topic_names})
        await ensure_topics(runners[0].bootstrap, names, partitions, replication_factor)
    for runner in runners:  # one after another: DDL on a shared database must not race
        await asyncio.to_thread(runner.prepare)
    await asyncio.gather(*(runner.run(stop, until_caught_up=until_caught_up) for runner in runners))
