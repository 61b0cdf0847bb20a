"""Log end offsets that hold on the embedded broker too.

`tansu` answers ListOffsets(latest) with the base offset of the partition's last record batch plus one,
not with the log end: after batches of 1, 5 and 20 records it says 7, not 26. Everything that waits for
"the end of the log" (a projector run `--until-caught-up`, the demo's wait for the archive, the bench's
message counts) would stop short by up to a batch, and a stream processor restoring its state from a changelog
would bring back old states (faust's table recovery did: issue 12). So the reported offset is only a starting point: the
last batch is read from there, and the end is the offset after its last record. On Kafka proper the
reported end is already right and the read finds nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from pipeline.ports import ChangelogRecord

Position = tuple[str, int]


async def partitions_of(consumer: AIOKafkaConsumer, topic_names: Iterable[str]) -> list[TopicPartition]:
    """Every partition of `topic_names`, from fresh metadata (aiokafka's consumer has no public call for it)."""
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
    consumer = _consumer(bootstrap, "oms-end-offsets")
    await consumer.start()
    try:
        partitions = await partitions_of(consumer, topic_names)
        ends = await true_ends(consumer, partitions, timeout_s)
        return {(tp.topic, tp.partition): end for tp, end in ends.items()}
    finally:
        await consumer.stop()


async def true_ends(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], timeout_s: float = 30.0
) -> dict[TopicPartition, int]:
    """Each partition's end, read past the broker's answer (the consumer's assignment is changed)."""
    if not partitions:
        return {}
    reported = await consumer.end_offsets(partitions)
    starts = await consumer.beginning_offsets(partitions)
    ends = dict(reported)
    unread = [tp for tp, end in reported.items() if end > starts[tp]]  # (empty, or emptied by retention)
    if unread:
        consumer.assign(unread)
        for tp in unread:  # before anything awaits: see `_consumer`
            consumer.seek(tp, reported[tp] - 1)
        # A fetch returns whole batches: the first answer at the reported end holds the partition's last batch.
        deadline = time.monotonic() + timeout_s
        while unread and time.monotonic() < deadline:
            batch = await consumer.getmany(*unread, timeout_ms=100)
            for tp, records in batch.items():
                tail = [record.offset for record in records if record.offset >= reported[tp] - 1]
                if tail:
                    ends[tp] = max(ends[tp], tail[-1] + 1)
                    consumer.pause(tp)
            unread = [tp for tp in unread if tp not in consumer.paused()]
        if unread:
            raise TimeoutError(f"could not read the last batch of {unread} in {timeout_s:.0f} s")
    return ends


class KafkaChangelogReader:
    """`ChangelogReader` for the stream processors: a changelog partition from an offset to its true end."""

    def __init__(self, bootstrap: str, timeout_s: float = 60.0) -> None:
        self.bootstrap = bootstrap
        self.timeout_s = timeout_s

    async def read(self, topic: str, starts: dict[int, int]) -> dict[int, tuple[list[ChangelogRecord], int]]:
        consumer = _consumer(self.bootstrap, "oms-changelog-reader")
        await consumer.start()
        try:
            wanted = [TopicPartition(topic, partition) for partition in sorted(starts)]
            known = {tp.partition for tp in await partitions_of(consumer, [topic])}
            missing = [tp.partition for tp in wanted if tp.partition not in known]
            if missing:
                raise LookupError(f"changelog topic {topic} has no partition {missing}: create it first")
            ends = await true_ends(consumer, wanted, self.timeout_s)
            firsts = await consumer.beginning_offsets(wanted)
            read: dict[int, tuple[list[ChangelogRecord], int]] = {}
            todo = []
            for tp in wanted:
                start = max(starts[tp.partition], firsts[tp])
                read[tp.partition] = ([], ends[tp])
                if start < ends[tp]:
                    todo.append((tp, start))
            await _read_until(consumer, todo, ends, read, self.timeout_s)
            return read
        finally:
            await consumer.stop()


async def _read_until(
    consumer: AIOKafkaConsumer,
    todo: list[tuple[TopicPartition, int]],
    ends: dict[TopicPartition, int],
    read: dict[int, tuple[list[ChangelogRecord], int]],
    timeout_s: float,
) -> None:
    """Every record from each start to its end. A partition is done by the records it returned, never by the
    consumer's position, which a reset in the background can move (see `_consumer`)."""
    if not todo:
        return
    consumer.assign([tp for tp, _ in todo])
    for tp, start in todo:  # before anything awaits
        consumer.seek(tp, start)
    reached = {tp: start - 1 for tp, start in todo}
    deadline = time.monotonic() + timeout_s
    while pending := [tp for tp, last in reached.items() if last + 1 < ends[tp]]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"could not read {sorted(map(str, pending))} to their ends in {timeout_s:.0f} s")
        batch = await consumer.getmany(*pending, timeout_ms=200)
        for tp, records in batch.items():
            kept = read[tp.partition][0]
            for record in records:
                if record.offset >= ends[tp] or record.offset <= reached[tp]:
                    continue  # past the end read now, or read already (a reset went back)
                if record.key is not None and record.value is not None:
                    kept.append((record.offset, record.key, record.value))
                reached[tp] = record.offset
            if reached[tp] + 1 >= ends[tp]:
                consumer.pause(tp)


def _consumer(bootstrap: str, client_id: str) -> AIOKafkaConsumer:
    """A consumer for reads by offset. aiokafka resets a newly assigned partition's position in the background
    and that reset can land after an explicit seek; on the embedded broker "latest" is its last batch, so a read
    would silently begin there. Resetting to the earliest offset instead can only make a read go back, which
    the readers here notice by offset."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,
        client_id=client_id,
    )
