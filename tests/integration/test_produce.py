"""The stages' batched send on the real broker: records land where `producer.send` puts them, in order."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from adapters.kafka.admin import ensure_topics
from pipeline.runtime.produce import send_records

pytestmark = pytest.mark.integration


async def read_all(bootstrap: str, topic: str, partitions: int, count: int) -> list[ConsumerRecord[bytes, bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        records: list[ConsumerRecord[bytes, bytes]] = []
        async with asyncio.timeout(20):
            while len(records) < count:
                batches = await consumer.getmany(timeout_ms=200)
                records += [record for batch in batches.values() for record in batch]
        return records
    finally:
        await consumer.stop()


async def test_keyed_records_land_on_the_partition_producer_send_picks(kafka_bootstrap: str) -> None:
    batched, sent_one_by_one = f"batched-{uuid.uuid4().hex[:8]}", f"single-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [batched, sent_one_by_one], partitions=8)
    keys = [f"order-{n}".encode() for n in range(200)]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks=1)
    await producer.start()
    try:
        await send_records(producer, [(batched, None, key, b"v", None) for key in keys])
        await asyncio.gather(*[await producer.send(sent_one_by_one, b"v", key=key) for key in keys])
    finally:
        await producer.stop()

    def partition_by_key(records: list[ConsumerRecord[bytes, bytes]]) -> dict[bytes | None, int]:
        return {record.key: record.partition for record in records}

    expected = partition_by_key(await read_all(kafka_bootstrap, sent_one_by_one, 8, len(keys)))
    assert partition_by_key(await read_all(kafka_bootstrap, batched, 8, len(keys))) == expected
    assert len(set(expected.values())) == 8


async def test_records_keep_their_order_across_batches_and_explicit_partitions(kafka_bootstrap: str) -> None:
    """More than one batch's worth for one partition (16 KiB batches here): every record, in order."""
    topic = f"order-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [topic], partitions=2)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks=1, max_batch_size=16 * 1024)
    await producer.start()
    try:
        records = [(topic, n % 2, b"k", f"{n:05d}".encode() + b"." * 1000, None) for n in range(100)]
        await send_records(producer, records)
        await send_records(producer, [])
    finally:
        await producer.stop()

    read = await read_all(kafka_bootstrap, topic, 2, 100)
    for partition in (0, 1):
        values = [r.value[:5] for r in sorted(read, key=lambda r: r.offset) if r.partition == partition]
        assert values == [f"{n:05d}".encode() for n in range(partition, 100, 2)]


async def test_an_event_s_type_travels_as_the_oms_type_header(kafka_bootstrap: str) -> None:
    topic = f"typed-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [topic], partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks=1)
    await producer.start()
    try:
        await send_records(producer, [(topic, 0, b"k", b"typed", "oms.stock.reserved"), (topic, 0, b"k", b"raw", None)])
    finally:
        await producer.stop()

    headers = {record.value: list(record.headers) for record in await read_all(kafka_bootstrap, topic, 1, 2)}
    assert headers == {b"typed": [("oms-type", b"oms.stock.reserved")], b"raw": []}
