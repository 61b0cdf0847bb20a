"""Log end offsets that hold on the embedded broker too.

`tansu` answers ListOffsets(latest) with the base offset of the partition's last record batch plus one,
not with the log end: after batches of 1, 5 and 20 records it says 7, not 26. Everything that waits for
"the end of the log" (a projector run `--until-caught-up`, the demo's wait for the archive, the bench's
message counts) would stop short by up to a batch. So the reported offset is only a starting point: the
last batch is read from there, and the end is the offset after its last record. On Kafka proper the
reported end is already right and the read finds nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

Position = tuple[str, int]


async def partitions_of(consumer: AIOKafkaConsumer, topic_names: Iterable[str]) -> list[TopicPartition]:
    partitions = []
    for name in topic_names:
        found = consumer.partitions_for_topic(name)
        if not found:
            await consumer._client.force_metadata_update()
            found = consumer.partitions_for_topic(name) or set()
        partitions += [TopicPartition(name, p) for p in sorted(found)]
    return partitions


async def log_end_offsets(bootstrap: str, topic_names: Iterable[str], timeout_s: float = 30.0) -> dict[Position, int]:
    """The offset the next record of each partition of `topic_names` will get, now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10, client_id="oms-end-offsets"
    )
    await consumer.start()
    try:
        partitions = await partitions_of(consumer, topic_names)
        if not partitions:
            return {}
        reported = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        ends = dict(reported)
        unread = [tp for tp, end in reported.items() if end > starts[tp]]  # (empty, or emptied by retention)
        if unread:
            consumer.assign(unread)
            for tp in unread:
                consumer.seek(tp, reported[tp] - 1)
            # A fetch returns whole batches: the first answer for a partition holds its last batch entire.
            deadline = time.monotonic() + timeout_s
            while unread and time.monotonic() < deadline:
                batch = await consumer.getmany(*unread, timeout_ms=100)
                for tp, records in batch.items():
                    if records:
                        ends[tp] = max(ends[tp], records[-1].offset + 1)
                unread = [tp for tp in unread if not batch.get(tp)]
            if unread:
                raise TimeoutError(f"could not read the last batch of {unread} in {timeout_s:.0f} s")
        return {(tp.topic, tp.partition): end for tp, end in ends.items()}
    finally:
        await consumer.stop()
