"""Issue 16, items 1 and 2 on the real embedded broker: the demo counts the log from its start and tells this
run's events from earlier ones by each partition's true end at start-up (tansu's "latest" answers the start of
the last batch, which made a restarted demo count part of the restored history as new); a child of the demo that
cannot start is reported with what it said."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaProducer

from adapters.demo.runner import watch
from adapters.demo.supervisor import Supervisor
from adapters.demo.tally import Tally
from adapters.kafka.admin import ensure_topics
from adapters.kafka.offsets import log_end_offsets
from events import Event, EventData, encode, topics
from tests.unit.test_demo_tally import shipped
from tests.unit.test_sql_read_model import DAY1, placed


@dataclass
class RecordingSimulator:
    delivered: list[str] = field(default_factory=list)

    def deliver(self, order_id: str, tracking_number: str) -> None:
        self.delivered.append(order_id)

    def reorder(self, sku: str, qty: int) -> None:
        pass


async def produce(bootstrap: str, topic: str, events: list[Event[EventData]]) -> None:
    # One large batch per partition: tansu then reports its start + 1 as the partition's end.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=200, max_batch_size=1 << 20)
    await producer.start()
    try:
        sent = [await producer.send(topic, encode(e), key=e.subject.encode(), partition=0) for e in events]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def an_order(n: int) -> Event[EventData]:
    return placed(f"o-{n}", "webshop", "a@example.com", {"MUG": (1, "9.50")}, DAY1)


async def test_a_restarted_demo_counts_the_restored_log_as_history_not_as_this_run(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    names = [f"{topic_prefix}{t}" for t in (topics.ORDERS, topics.NOTIFICATIONS, topics.DEADLETTER, topics.INVENTORY)]
    await ensure_topics(kafka_bootstrap, names, partitions=2)
    orders_topic = names[0]
    await produce(kafka_bootstrap, orders_topic, [an_order(n) for n in range(30)] + [shipped("o-1")])

    tally = Tally(run_starts=await log_end_offsets(kafka_bootstrap, names))
    simulator = RecordingSimulator()
    watching = asyncio.create_task(watch(kafka_bootstrap, names, tally, simulator))  # type: ignore[arg-type]
    try:
        await produce(kafka_bootstrap, orders_topic, [an_order(100), an_order(101), shipped("o-100")])
        async with asyncio.timeout(30):
            while tally.everything["oms.order.placed"] < 32:
                await asyncio.wait([watching], timeout=0.1)
    finally:
        watching.cancel()

    assert tally.cells("oms.order.placed") == ("2", "32")
    assert tally.cells("oms.order.shipped") == ("1", "2")
    assert simulator.delivered == ["o-100"], "only what this run shipped is delivered by the simulated carrier"


def test_a_child_that_cannot_listen_is_reported_with_its_reason(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {name: value for name, value in os.environ.items() if not name.startswith("OMS_")}
        supervisor = Supervisor({**env, "OMS_DATA_DIR": str(tmp_path)}, tmp_path / "logs")
        supervisor.start("api", "api", "--port", str(port))
        deadline = time.monotonic() + 60
        while supervisor.is_running("api") and time.monotonic() < deadline:
            time.sleep(0.1)
        [account] = supervisor.unexpected_stops()

    assert account.startswith("api stopped unexpectedly (exit 2): ")
    assert f"127.0.0.1:{port} (address already in use)" in account
    assert str(tmp_path / "logs" / "api.log") in account
