"""The two baselines, on the bench's broker: a raw aiokafka loop and an idiomatic faust agent."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer

from adapters.bench.load import Catalogue, OrderMaker, producer_for, send_batch
from adapters.bench.procs import module_child
from adapters.kafka.admin import ensure_topics
from adapters.kafka.offsets import partitions_of


@dataclass(frozen=True)
class Rate:
    events: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


async def fill_topic(bootstrap: str, topic: str, count: int, catalogue: Catalogue) -> None:
    """`count` real `oms.order.placed` payloads, keyed by order id, the same size as the pipeline's input."""
    maker = OrderMaker(catalogue, prefix="", seed=23)
    messages = [maker.make(f"b-{index:07d}", index) for index in range(count)]
    messages = [(topic, key, value) for _, key, value in messages]
    producer = producer_for(bootstrap)
    await producer.start()
    try:
        for start in range(0, count, 5000):
            await send_batch(producer, messages[start : start + 5000])
    finally:
        await producer.stop()


async def raw_loop(bootstrap: str, source: str, sink: str, count: int, timeout_s: float = 60.0) -> Rate:
    """Consume `count` messages and produce each to `sink`, awaiting the acks batch by batch."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=10,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        client_id="oms-bench-raw",
    )
    producer = producer_for(bootstrap)
    await consumer.start()
    await producer.start()
    try:
        assigned = await partitions_of(consumer, [source])
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        done, started = 0, 0.0
        deadline = time.monotonic() + timeout_s
        while done < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=2000)
            if not batch:
                continue
            if done == 0:
                started = time.perf_counter()
            pending = [
                await producer.send(sink, key=record.key, value=record.value)
                for records in batch.values()
                for record in records
            ]
            await asyncio.gather(*pending)
            done += len(pending)
        return Rate(done, time.perf_counter() - started if done else 0.0)
    finally:
        await producer.stop()
        await consumer.stop()


async def faust_agent(
    bootstrap: str, source: str, sink: str, count: int, workdir: Path, partitions: int, timeout_s: float = 90.0
) -> Rate:
    """Run the idiomatic faust agent as a child over `source`; its own clock starts at its first event."""
    result = workdir / "faust-baseline.json"
    result.unlink(missing_ok=True)
    args = ["--bootstrap", bootstrap, "--source", source, "--sink", sink, "--count", str(count)]
    args += ["--result", str(result), "--app-id", f"{source}.faust-baseline", "--data-dir", str(workdir)]
    args += ["--partitions", str(partitions)]
    child = module_child("faust-baseline", "adapters.bench.faust_agent", args, {}, workdir).start()
    try:
        deadline = time.monotonic() + timeout_s
        while not result.exists():
            if not child.alive:
                raise RuntimeError(f"the faust baseline exited early:\n{child.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the faust baseline did not finish in {timeout_s}s:\n{child.log_tail()}")
            await asyncio.sleep(0.1)
        measured = orjson.loads(result.read_bytes())
        return Rate(int(measured["events"]), float(measured["seconds"]))
    finally:
        child.stop()


async def run_baselines(
    bootstrap: str, prefix: str, count: int, partitions: int, workdir: Path, catalogue: Catalogue
) -> dict[str, Rate]:
    source, raw_sink, faust_sink = f"{prefix}bench.in", f"{prefix}bench.raw-out", f"{prefix}bench.faust-out"
    await ensure_topics(bootstrap, [source, raw_sink, faust_sink], partitions)
    await fill_topic(bootstrap, source, count, catalogue)
    raw = await raw_loop(bootstrap, source, raw_sink, count)
    faust = await faust_agent(bootstrap, source, faust_sink, count, workdir, partitions)
    return {"raw_aiokafka": raw, "faust_agent": faust}
