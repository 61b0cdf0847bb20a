"""How far behind the log each reader is, read from the broker: consumer groups by their committed offsets, the
projections by the positions their database tracks (they commit nothing to Kafka: the database is the truth).

Every end is a true end (`offsets.true_ends`): the embedded broker's ListOffsets(latest) answer is short by up to a
batch, which would show a reader that is behind as caught up.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from adapters.kafka.offsets import Position, _consumer


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    position: int  # the next offset the reader will take (committed offset; tracked offset + 1)
    end: int

    @property
    def lag(self) -> int:
        return max(self.end - self.position, 0)


@dataclass(frozen=True)
class ProjectorLag:
    projection: str
    partitions: tuple[PartitionLag, ...]
    seconds: float  # the age of the oldest record not applied yet; 0 when caught up

    @property
    def events(self) -> int:
        return sum(p.lag for p in self.partitions)


async def group_names(bootstrap: str, prefix: str = "", timeout_s: float = 10.0) -> list[str]:
    """The consumer groups the broker knows whose names start with `prefix`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    await admin.start()
    try:
        listed = await admin.list_consumer_groups()
    finally:
        await admin.close()
    return sorted({str(group[0]) for group in listed if str(group[0]).startswith(prefix)})


async def group_lags(bootstrap: str, groups: Iterable[str], ends: Mapping[Position, int]) -> list[PartitionLag]:
    """The lag of each partition in `ends` (true ends: `offsets.log_end_offsets`) of the topics each of `groups`
    reads (has committed an offset on): a partition it has not committed on yet is behind by all of it. (Committed
    offsets are asked of a consumer in the group: the admin client's OffsetFetch is not understood by the embedded
    broker.)"""
    partitions = [TopicPartition(topic, partition) for topic, partition in sorted(ends)]
    lags = []
    for group in groups:
        committed = await _committed(bootstrap, group, partitions)
        read = {tp.topic for tp in committed}
        lags += [
            PartitionLag(group, tp.topic, tp.partition, committed.get(tp, 0), ends[(tp.topic, tp.partition)])
            for tp in partitions
            if tp.topic in read
        ]
    return lags


async def _committed(bootstrap: str, group: str, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        found = {tp: await consumer.committed(tp) for tp in partitions}
        return {tp: offset for tp, offset in found.items() if offset is not None and offset >= 0}
    finally:
        await consumer.stop()


async def projector_lag(
    bootstrap: str,
    projection: str,
    ends: Mapping[Position, int],
    tracked: Mapping[Position, int],
    timeout_s: float = 10.0,
) -> ProjectorLag:
    """How far `projection` is behind on the partitions in `ends` (its topics'), from the offsets its database
    tracks, and the age of the oldest record it has not applied yet (read from the log, by its timestamp)."""
    lags = tuple(
        PartitionLag(projection, topic, partition, tracked.get((topic, partition), -1) + 1, end)
        for (topic, partition), end in sorted(ends.items())
    )
    behind = {TopicPartition(p.topic, p.partition): p.position for p in lags if p.lag}
    oldest = await _first_timestamps(bootstrap, behind, timeout_s)
    seconds = max(time.time() - min(oldest) / 1000, 0.0) if oldest else 0.0
    return ProjectorLag(projection, lags, seconds)


async def _first_timestamps(bootstrap: str, starts: dict[TopicPartition, int], timeout_s: float) -> list[int]:
    """The timestamp (ms) of the record at each start offset (or the first after it)."""
    if not starts:
        return []
    consumer = _consumer(bootstrap, "oms-projector-lag")
    await consumer.start()
    try:
        consumer.assign(list(starts))
        for tp, offset in starts.items():  # before anything awaits (see `offsets._consumer`)
            consumer.seek(tp, offset)
        found: dict[TopicPartition, int] = {}
        deadline = time.monotonic() + timeout_s
        while len(found) < len(starts) and time.monotonic() < deadline:
            batch = await consumer.getmany(*[tp for tp in starts if tp not in found], timeout_ms=200)
            for tp, records in batch.items():
                first = next((r for r in records if r.offset >= starts[tp]), None)
                if first is not None:
                    found[tp] = first.timestamp
                    consumer.pause(tp)
        return list(found.values())
    finally:
        await consumer.stop()
