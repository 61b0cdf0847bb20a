"""Drive the real pipeline from tests: run `oms worker` as a child process, produce, read topics."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from adapters.kafka.offsets import log_end_offsets
from events import Event, EventData, decode, encode, topics


@dataclass(frozen=True)
class Logged:
    topic: str
    partition: int
    offset: int
    event: Event[EventData] | None
    raw: bytes


@dataclass
class Worker:
    """One `oms worker` child process with its own topic prefix and data folder."""

    bootstrap: str
    prefix: str
    data_dir: Path
    payment_timeout_s: float = 1800.0
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        env = {
            **os.environ,
            "OMS_KAFKA_BOOTSTRAP": self.bootstrap,
            "OMS_TOPIC_PREFIX": self.prefix,
            "OMS_DATA_DIR": str(self.data_dir),
            "OMS_PARTITIONS": "4",
            "OMS_PAYMENT_TIMEOUT_S": str(self.payment_timeout_s),
            **self.extra_env,
        }
        log = open(self.data_dir / "worker.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli.main", "worker", "--loglevel", "warn"],
            env=env,
            cwd=self.data_dir,  # faust keeps its table folder in the working directory
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_text(self) -> str:
        path = self.data_dir / "worker.log"
        return path.read_text(errors="replace") if path.exists() else ""


async def produce(bootstrap: str, prefix: str, events: Iterable[Event[EventData]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=2)
    await producer.start()
    try:
        pending = [
            await producer.send(f"{prefix}{event.topic}", key=event.subject.encode(), value=encode(event))
            for event in events
        ]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def produce_raw(bootstrap: str, topic: str, key: bytes | None, value: bytes | None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1)
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=key, value=value)
    finally:
        await producer.stop()


async def read_topic(bootstrap: str, topic: str) -> list[Logged]:
    """Everything on `topic` now, in offset order per partition (partitions one after another). The end of each
    partition comes from `log_end_offsets` (the broker's own answer is short of it on the embedded broker)."""
    ends = {tp: end for (_, tp), end in (await log_end_offsets(bootstrap, [topic])).items() if end > 0}
    assigned = [TopicPartition(topic, p) for p in sorted(ends)]
    if not assigned:
        # (Before a consumer starts: stopping one that never awaited after its start raises the CancelledError of
        # aiokafka's own committed-offsets task, which failed tests waiting on a topic still empty.)
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign(assigned)
        for tp in assigned:  # before anything awaits: a position reset in the background could land after it
            consumer.seek(tp, 0)
        seen: dict[tuple[int, int], Logged] = {}
        reached = {tp: -1 for tp in assigned}
        deadline = time.monotonic() + 60
        while pending := [tp for tp, last in reached.items() if last + 1 < ends[tp.partition]]:
            if time.monotonic() > deadline:
                raise AssertionError(f"read_topic({topic}): stuck short of the ends {ends}, reached {reached}")
            batch = await consumer.getmany(*pending, timeout_ms=500)
            for tp, records in batch.items():
                for r in records:
                    if r.offset < ends[tp.partition]:
                        seen[(tp.partition, r.offset)] = Logged(
                            tp.topic, tp.partition, r.offset, _decoded(r.value), r.value
                        )
                        reached[tp] = max(reached[tp], r.offset)
        return [seen[position] for position in sorted(seen)]
    finally:
        await consumer.stop()


def _decoded(raw: bytes) -> Event[EventData] | None:
    try:
        return decode(raw)
    except ValueError:
        return None


class TopicTail:
    """Everything on a topic so far, read as it grows: each `read` fetches only what was appended since the one
    before (re-reading the whole topic every poll made a wait on thousands of records slow for the broker and
    for the workers beside it)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self._consumer: AIOKafkaConsumer | None = None
        self._reached: dict[TopicPartition, int] = {}  # the last offset read, per partition
        self._seen: dict[tuple[int, int], Logged] = {}

    async def read(self) -> list[Logged]:
        """Every record up to each partition's true end now (and any read past it), in offset order."""
        ends = {
            TopicPartition(self.topic, partition): end
            for (_, partition), end in (await log_end_offsets(self.bootstrap, [self.topic])).items()
            if end > 0
        }
        if set(ends) - set(self._reached):
            await self._assign(sorted(set(ends) | set(self._reached)))
        consumer = self._consumer
        while consumer and (pending := [tp for tp, last in self._reached.items() if last + 1 < ends.get(tp, 0)]):
            batch = await consumer.getmany(*pending, timeout_ms=500)
            for tp, records in batch.items():
                for r in records:
                    if r.offset > self._reached[tp]:  # (a position reset can go back: read already)
                        self._seen[(tp.partition, r.offset)] = Logged(
                            tp.topic, tp.partition, r.offset, _decoded(r.value), r.value
                        )
                        self._reached[tp] = r.offset
        return [self._seen[position] for position in sorted(self._seen)]

    async def _assign(self, partitions: list[TopicPartition]) -> None:
        if self._consumer is None:  # started only once there is something to read (see read_topic)
            self._consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
            )
            await self._consumer.start()
        self._consumer.assign(partitions)
        for tp in partitions:  # before anything awaits
            self._reached.setdefault(tp, -1)
            self._consumer.seek(tp, self._reached[tp] + 1)

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None


async def wait_for(
    bootstrap: str,
    topic: str,
    done: Callable[[list[Logged]], bool],
    seconds: float = 45.0,
    worker: Worker | None = None,
) -> list[Logged]:
    tail = TopicTail(bootstrap, topic)
    try:
        return await _wait_on(tail, done, seconds, worker)
    finally:
        await tail.close()


async def _wait_on(
    tail: TopicTail, done: Callable[[list[Logged]], bool], seconds: float, worker: Worker | None
) -> list[Logged]:
    deadline = time.monotonic() + seconds
    while True:
        logged = await tail.read()
        if done(logged):
            return logged
        if worker is not None and worker.process is not None and worker.process.poll() is not None:
            raise AssertionError(f"worker exited with {worker.process.returncode}:\n{worker.log_text()[-3000:]}")
        if time.monotonic() > deadline:
            log_tail = worker.log_text()[-3000:] if worker else ""
            seen = [
                (i.partition, i.offset, i.event.type if i.event else "?", i.event.subject if i.event else "?")
                for i in logged
            ]
            raise AssertionError(
                f"timed out waiting on {tail.topic}; {len(logged)} messages there, the last: {seen}\n{log_tail}"
            )
        await asyncio.sleep(0.3)


def of_type(logged: Iterable[Logged], event_type: str, **fields: object) -> list[Event[EventData]]:
    return [
        item.event
        for item in logged
        if item.event is not None
        and item.event.type == event_type
        and all(getattr(item.event.data, name) == value for name, value in fields.items())
    ]


def topic(prefix: str, name: str) -> str:
    assert name in topics.PUBLIC_TOPICS
    return f"{prefix}{name}"
