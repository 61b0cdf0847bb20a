"""The real embedded broker: CloudEvents through two Kafka clients, topic creation, the launcher's lifecycle."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import confluent_kafka
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from adapters.kafka.admin import ensure_topics, public_topic_names
from adapters.kafka.broker import EmbeddedBroker, answers_metadata, free_port
from adapters.kafka.offsets import log_end_offsets
from events import OrderPlaced, decode, encode, topics
from tests import builders as b

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


# --- helpers ----------------------------------------------------------------------------------------


async def produce_with_aiokafka(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


def produce_with_librdkafka(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    """A second, non-Python-native client. murmur2_random partitions like the Java client and aiokafka."""
    producer = confluent_kafka.Producer(
        {"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "client.id": "oms-test-librdkafka"}
    )
    failures: list[confluent_kafka.KafkaError] = []

    def on_delivery(error: confluent_kafka.KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(error)

    for key, value in messages:
        producer.produce(topic, value=value, key=key, on_delivery=on_delivery)
    assert producer.flush(10) == 0, "librdkafka did not deliver everything in 10 s"
    assert failures == []


async def consume_in_group(bootstrap: str, topic: str, group: str, count: int) -> list[ConsumerRecord[bytes, bytes]]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        # The embedded broker holds a new group's first JoinGroup for half the session timeout (5 s by default).
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    try:
        records: list[ConsumerRecord[bytes, bytes]] = []
        async with asyncio.timeout(20):
            while len(records) < count:
                batches = await consumer.getmany(timeout_ms=500)
                records += [record for batch in batches.values() for record in batch]
        await consumer.commit()
        for record in records:
            assert await consumer.committed(TopicPartition(record.topic, record.partition)) > record.offset
        return records
    finally:
        await consumer.stop()


async def partition_counts(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="oms-test")
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {topic["topic"]: len(topic["partitions"]) for topic in described}


def hand_written_order(order_id: str) -> bytes:
    """A CloudEvent as any producer would write it from the documentation: plain JSON, no project code."""
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "urn:oms:tests:librdkafka",
            "type": "oms.order.placed",
            "time": "2026-01-31T12:00:00Z",
            "subject": order_id,
            "datacontenttype": "application/json",
            "schemaversion": 2,
            "data": {
                "order_id": order_id,
                "channel": "marketplace",
                "customer": {"email": "grace@example.com"},
                "lines": [{"sku": "SKU-1", "qty": 2, "unit_price": "9.90"}],
                "currency": "EUR",
                "payment_status": "paid",
                "placed_at": "2026-01-31T11:59:00+01:00",
            },
        }
    ).encode()


def is_alive(pid: int, started: str | None = None) -> bool:
    """True while `pid` runs. A zombie (dead, not yet reaped by its new parent) is not alive."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    fields = stat.rsplit(")", 1)[1].split()
    state, start_time = fields[0], fields[19]
    if started is not None and start_time != started:
        return False  # the pid was reused by another process
    return state not in ("Z", "X", "x")


def start_time_of(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


def children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# --- events through the broker ------------------------------------------------------------------------


async def test_an_event_produced_with_aiokafka_is_consumed_by_a_group_and_decoded(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    orders_topic = f"{topic_prefix}{topics.ORDERS}"
    await ensure_topics(kafka_bootstrap, [orders_topic], partitions=3)
    placed = b.order_placed(lines={"SKU-1": 2, "SKU-2": 1})

    await produce_with_aiokafka(kafka_bootstrap, orders_topic, placed.key.encode(), encode(placed))
    [record] = await consume_in_group(kafka_bootstrap, orders_topic, f"{topic_prefix}order_projector", 1)

    assert record.key == placed.key.encode()
    assert decode(record.value) == placed


async def test_an_event_produced_with_librdkafka_is_decoded_and_partitioned_like_aiokafka(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    orders_topic = f"{topic_prefix}{topics.ORDERS}"
    await ensure_topics(kafka_bootstrap, [orders_topic], partitions=4)
    order_ids = [f"o-{uuid.uuid4().hex[:10]}" for _ in range(8)]

    await asyncio.to_thread(
        produce_with_librdkafka,
        kafka_bootstrap,
        orders_topic,
        [(order_id.encode(), hand_written_order(order_id)) for order_id in order_ids],
    )
    records = await consume_in_group(kafka_bootstrap, orders_topic, f"{topic_prefix}order_projector", len(order_ids))

    partitions = [0, 1, 2, 3]
    decoded = {record.key: (record.partition, decode(record.value)) for record in records}
    assert sorted(decoded) == sorted(order_id.encode() for order_id in order_ids)
    for key, (partition, event) in decoded.items():
        assert partition == DefaultPartitioner()(key, partitions, partitions), "per-key order needs one partition"
        assert isinstance(event.data, OrderPlaced)
        assert event.subject == event.data.order_id == key.decode()
        assert event.correlationid == str(event.id)


# --- topic creation ---------------------------------------------------------------------------------------


async def test_ensure_topics_creates_the_configured_partitions_once(kafka_bootstrap: str, topic_prefix: str) -> None:
    names = public_topic_names(topic_prefix)

    created = await ensure_topics(kafka_bootstrap, names, partitions=3)
    again = await ensure_topics(kafka_bootstrap, names, partitions=5)

    assert created == names
    assert again == []
    assert await partition_counts(kafka_bootstrap, names) == dict.fromkeys(names, 3)


async def test_services_starting_together_may_both_ensure_the_topics(kafka_bootstrap: str, topic_prefix: str) -> None:
    names = public_topic_names(topic_prefix)

    await asyncio.gather(*(ensure_topics(kafka_bootstrap, names, partitions=2) for _ in range(3)))

    assert await partition_counts(kafka_bootstrap, names) == dict.fromkeys(names, 2)


# --- the launcher ----------------------------------------------------------------------------------------

_LAUNCHER = """
import time
from adapters.kafka.broker import EmbeddedBroker
broker = EmbeddedBroker().start()
print(broker.pid, flush=True)
time.sleep(120)
"""


def test_no_broker_is_left_behind_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _LAUNCHER], cwd=REPO, stdout=subprocess.PIPE, text=True)
    broker_pid = started = None
    try:
        assert parent.stdout is not None
        broker_pid = int(parent.stdout.readline())
        started = start_time_of(broker_pid)
        assert is_alive(broker_pid, started)

        parent.send_signal(signal.SIGKILL)
        parent.wait(5)

        assert wait_until(lambda: not is_alive(broker_pid, started), 5), f"broker {broker_pid} outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if broker_pid is not None and is_alive(broker_pid, started):
            os.kill(broker_pid, signal.SIGKILL)


def test_a_broker_started_from_a_short_lived_thread_keeps_running() -> None:
    started: list[EmbeddedBroker] = []
    starter = threading.Thread(target=lambda: started.append(EmbeddedBroker().start()))
    starter.start()
    starter.join()
    [broker] = started
    try:
        time.sleep(0.5)

        assert answers_metadata(broker.host, broker.port)
    finally:
        broker.stop()


def test_stop_stops_the_broker() -> None:
    broker = EmbeddedBroker().start()
    pid = broker.pid
    assert pid is not None
    assert answers_metadata(broker.host, broker.port)

    broker.stop()

    assert broker.pid is None
    assert not is_alive(pid)
    assert not answers_metadata(broker.host, broker.port)
    broker.stop()  # stopping twice is harmless


def test_leaving_the_context_stops_the_broker() -> None:
    with EmbeddedBroker() as broker:
        pid = broker.pid
        assert pid is not None and is_alive(pid)

    assert not is_alive(pid)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_oms_broker_answers_metadata_and_exits_cleanly(stop_signal: signal.Signals) -> None:
    port = free_port()
    command = [sys.executable, "-m", "adapters.cli.main", "broker", "--port", str(port)]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_until(lambda: answers_metadata("127.0.0.1", port), 20), "oms broker never answered"
        brokers = children_of(process.pid)
        assert brokers, "oms broker runs the broker as its child"

        process.send_signal(stop_signal)
        output, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, output
    assert f"embedded broker ready at 127.0.0.1:{port}" in output
    assert "broker stopped" in output
    assert not answers_metadata("127.0.0.1", port)
    assert not any(is_alive(pid) for pid in brokers)


async def test_log_end_offsets_count_every_record_of_the_last_batch(kafka_bootstrap: str) -> None:
    """tansu answers ListOffsets(latest) with the last batch's base offset + 1; our helper reads past it."""
    topic = f"ends-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [topic], partitions=2)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=50)
    await producer.start()
    try:
        for size in (1, 5, 20):  # three batches on partition 0, one of 3 on partition 1
            await asyncio.gather(*[await producer.send(topic, b"x", partition=0) for _ in range(size)])
        await asyncio.gather(*[await producer.send(topic, b"y", partition=1) for _ in range(3)])
    finally:
        await producer.stop()

    assert await log_end_offsets(kafka_bootstrap, [topic]) == {(topic, 0): 26, (topic, 1): 3}


async def test_log_end_offsets_of_empty_partitions_are_zero(kafka_bootstrap: str) -> None:
    topic = f"ends-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [topic], partitions=2)
    assert await log_end_offsets(kafka_bootstrap, [topic]) == {(topic, 0): 0, (topic, 1): 0}
