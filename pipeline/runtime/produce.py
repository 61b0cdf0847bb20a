"""A stage's output as one closed record batch per partition, then wait for the broker's acks.

faust's per-message send (a faust future, a producer-buffer entry for changelog writes, an aiokafka
accumulator append and future per message) was about a quarter of the worker's main thread under load
(py-spy, see BENCHMARKS.md). A stage already knows its whole output when it sends, so it builds one
record batch per topic-partition with aiokafka's `create_batch` / `send_batch` on faust's own producer
(`faust_internals.kafka_producer`):
one future per partition, and a closed batch is sent at once instead of lingering.

Keys are partitioned by the producer's own partitioner, so a record lands where
`producer.send` would have put it; changelog records carry their table partition explicitly. Within a
topic-partition the records keep their order: batches for one partition are queued one after another and
aiokafka keeps at most one in flight per partition.

A record that carries an event gets its type as the `oms-type` header, so that a worker can pass over the
outputs its stages ignore without decoding them (`pipeline/runtime/faust_internals.py`). Not `ce_type`: in the
CloudEvents Kafka binding that header means binary mode, and our values are structured-mode envelopes.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable
from typing import Any

from aiokafka.partitioner import DefaultPartitioner, murmur2

_BY_KEY = DefaultPartitioner()
Record = tuple[str, int | None, bytes, bytes, str | None]  # topic, partition (None: by key), key, value, event type
Landed = dict[tuple[str, int], list[tuple[int, int]]]  # (topic, partition) -> (base offset, records) per batch
TYPE_HEADER = "oms-type"


async def send_records(producer: Any, records: Iterable[Record]) -> Landed:
    """Send every record with an `AIOKafkaProducer`; once the broker has acknowledged all of them, say where each
    batch landed."""
    per_partition: dict[tuple[str, int], list[tuple[bytes, bytes, list[tuple[str, bytes]]]]] = {}
    partitions_of: dict[str, list[int]] = {}
    for topic, partition, key, value, kind in records:
        if partition is None:
            if topic not in partitions_of:
                partitions_of[topic] = sorted(await producer.partitions_for(topic))  # waits for metadata
            # the partitioner `producer.send` uses by default (faust sets none): murmur2 of the key
            partition = _BY_KEY(key, partitions_of[topic], partitions_of[topic])
        headers = [(TYPE_HEADER, kind.encode())] if kind else []
        per_partition.setdefault((topic, partition), []).append((key, value, headers))
    acks = []
    for (topic, partition), entries in per_partition.items():
        batch, count = producer.create_batch(), 0
        for key, value, headers in entries:
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:  # full: send, start anew
                acks.append((count, await producer.send_batch(batch, topic, partition=partition)))
                batch, count = producer.create_batch(), 0
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    raise ValueError(f"a record for {topic} is larger than the producer's batch size")
            count += 1
        batch.close()
        acks.append((count, await producer.send_batch(batch, topic, partition=partition)))
    landed: Landed = {}
    for count, metadata in zip(
        (count for count, _ in acks), await asyncio.gather(*(ack for _, ack in acks)), strict=True
    ):
        landed.setdefault((metadata.topic, metadata.partition), []).append((metadata.offset, count))
    return landed


class KeyHomes:
    """The partition the default partitioner gives a key on a topic, from the partition counts in the producer's
    metadata (learned before a batch uses them: a worker that is not its group's leader has no other source)."""

    def __init__(self, producer: Callable[[], Any]) -> None:
        self._producer = producer
        self._counts: dict[str, list[int]] = {}
        self._hash = functools.lru_cache(maxsize=65_536)(murmur2)  # keys repeat (a sku, an order's events)

    async def learn(self, topics: Iterable[str]) -> None:
        for topic in set(topics) - set(self._counts):
            self._counts[topic] = sorted(await self._producer().partitions_for(topic))

    def __call__(self, topic: str, key: bytes) -> int | None:
        partitions = self._counts.get(topic)
        return partitions[(self._hash(key) & 0x7FFFFFFF) % len(partitions)] if partitions else None
