"""Read what `oms check` audits: every record of the public topics, the order replies and the processors'
table changelogs, from the start up to each partition's true end.

The end comes from `adapters.kafka.offsets.log_end_offsets`, not from the broker's ListOffsets answer, which
the embedded broker gets wrong (it answers the last batch's base offset + 1).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from adapters.audit.findings import ChangelogRecord, Logged
from adapters.kafka.offsets import Position, log_end_offsets
from adapters.kafka.projection_runner import as_record
from events import topics
from projections.archive import Record, decoded

CHANGELOG_TABLES = ("sku_to_stock", "order_to_state", "order_to_shipments", "order_to_notifications")
"""The processors' tables (pipeline/runtime/worker_stages.py); each has a changelog topic
`<app id>-<table>-changelog`."""


class LogReadTimeout(TimeoutError):
    """The topics could not be read up to their ends in time (the broker is slow or gone)."""


@dataclass(frozen=True)
class AuditTopics:
    """The topics of one deployment: its prefix, and the processors' app name (OMS_PIPELINE_APP)."""

    prefix: str = ""
    pipeline_app: str = "oms-pipeline"

    @property
    def events(self) -> dict[str, str]:
        """Topic -> its name without the prefix, for the topics that carry events."""
        names = (*topics.PUBLIC_TOPICS, topics.ORDER_REPLIES)
        return {f"{self.prefix}{name}": name for name in names}

    @property
    def changelogs(self) -> list[str]:
        return [f"{self.prefix}{self.pipeline_app}-{table}-changelog" for table in CHANGELOG_TABLES]

    @property
    def every_topic(self) -> list[str]:
        return [*self.events, *self.changelogs]


@dataclass(frozen=True)
class RawLog:
    """Every record read, in (topic, partition, offset) order, and where each partition started and ended."""

    records: list[Record]
    starts: dict[Position, int]
    ends: dict[Position, int]

    def truncated(self) -> list[Position]:
        """Partitions whose first records are gone (retention): folds over them start in the middle."""
        return sorted(position for position, start in self.starts.items() if start > 0)


@dataclass(frozen=True)
class DecodedLog:
    events: list[Logged]
    changelogs: list[ChangelogRecord]
    undecodable: int


async def read_log(bootstrap: str, names: Iterable[str], *, timeout_s: float = 60.0) -> RawLog:
    """Every record of `names` (missing topics are skipped) from the start to the end each partition has now."""
    ends = await log_end_offsets(bootstrap, names, timeout_s)
    written = [TopicPartition(topic, partition) for (topic, partition), end in ends.items() if end > 0]
    if not written:
        # Nothing to read, so no consumer: one stopped right after it started has its background reset task
        # cancelled before it ever ran, and aiokafka 0.14's stop() re-raises that CancelledError.
        return RawLog([], {}, ends)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        client_id="oms-check",
    )
    await consumer.start()
    try:
        starts = await consumer.beginning_offsets(written)
        # Seek before anything awaits: an assigned partition without a position is reset in the background, and
        # a reset still in flight lands after `seek_to_beginning` (seen on the embedded broker, whose "latest"
        # is its last batch: the read then began there and lost everything before it).
        consumer.assign(written)
        for tp in written:
            consumer.seek(tp, starts[tp])
        unread = [tp for tp in written if starts[tp] < ends[(tp.topic, tp.partition)]]
        records = await _read_until(consumer, unread, ends, time.monotonic() + timeout_s)
    finally:
        await consumer.stop()
    records.sort(key=lambda record: (record.topic, record.partition, record.offset))
    return RawLog(records, {(tp.topic, tp.partition): offset for tp, offset in starts.items()}, ends)


async def _read_until(
    consumer: AIOKafkaConsumer, unread: list[TopicPartition], ends: dict[Position, int], deadline: float
) -> list[Record]:
    """Fetch until every partition has returned its records up to its end. A partition is done by the records
    it has returned, not by `consumer.position()`: a read that skips records then times out, loudly, instead of
    auditing less than the log. (The pipeline never writes transaction markers, which would hold a partition
    short of its end.)"""
    records: list[Record] = []
    reached = {tp: -1 for tp in unread}
    while pending := [tp for tp, last in reached.items() if last + 1 < ends[(tp.topic, tp.partition)]]:
        if time.monotonic() > deadline:
            raise LogReadTimeout(f"could not read {sorted(map(str, pending))} up to their ends in time")
        batch = await consumer.getmany(*pending, timeout_ms=200)
        for tp, messages in batch.items():
            end = ends[(tp.topic, tp.partition)]
            records += [as_record(message) for message in messages if message.offset < end]
            if messages:
                reached[tp] = max(reached[tp], messages[-1].offset)
                if reached[tp] + 1 >= end:
                    consumer.pause(tp)
    return records


def decoded_log(records: Sequence[Record], audit_topics: AuditTopics) -> DecodedLog:
    """The events of the event topics, decoded (what does not decode was dead-lettered by the pipeline), and
    the changelog records as they are."""
    base_of = audit_topics.events
    changelog_topics = set(audit_topics.changelogs)
    events: list[Logged] = []
    changelogs: list[ChangelogRecord] = []
    undecodable = 0
    for record in records:
        if record.topic in changelog_topics:
            changelogs.append(ChangelogRecord(record.topic, record.partition, record.offset, record.key, record.value))
            continue
        event = decoded(record.value)
        if event is None or record.topic not in base_of:
            undecodable += 1
            continue
        base = base_of[record.topic]
        events.append(Logged(record.topic, base, record.partition, record.offset, event, record.timestamp_ms))
    return DecodedLog(events, changelogs, undecodable)
