"""Watching orders go through: a tail consumer on the logs and a poller on the projector's positions.

Per order it records when the bench placed it, when `oms.order.confirmed` and `oms.notification.sent`
(kind shipped) reached the bench's consumer, and when the projector's tracked position (written in the
same transaction as the view rows) covered the order's `oms.order.shipped` and its shipped notification.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from adapters.kafka.offsets import partitions_of
from events import topics

_CONFIRMED = b'"type":"oms.order.confirmed"'
_SHIPPED = b'"type":"oms.order.shipped"'
_SENT = b'"type":"oms.notification.sent"'
_KIND_SHIPPED = b'"kind":"shipped"'

Position = tuple[str, int]


class BenchFailed(RuntimeError):
    pass


@dataclass
class OrderTimes:
    placed: float | None = None
    confirmed: float | None = None
    notified: float | None = None
    projected_shipped: float | None = None
    projected_notified: float | None = None

    @property
    def done(self) -> float | None:
        """When the order was placed -> confirmed -> shipped -> notified -> projected, all of it."""
        if self.notified is None or self.projected_shipped is None or self.projected_notified is None:
            return None
        return max(self.notified, self.projected_shipped, self.projected_notified)


@dataclass
class Tracker:
    bootstrap: str
    prefix: str
    views_db: Path
    orders: dict[str, OrderTimes] = field(default_factory=dict)
    done_times: list[tuple[float, str]] = field(default_factory=list)
    poll_interval_s: float = 0.01
    _waiting: dict[Position, deque[tuple[int, str, str]]] = field(default_factory=dict)
    _tracked: dict[Position, int] = field(default_factory=dict)
    _tailed: dict[Position, int] = field(default_factory=dict)
    _gaps: list[tuple[Position, int, int]] = field(default_factory=list)
    _finished: set[str] = field(default_factory=set)
    _consumer: AIOKafkaConsumer | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def times(self, order_id: str) -> OrderTimes:
        found = self.orders.get(order_id)
        if found is None:
            found = self.orders[order_id] = OrderTimes()
        return found

    def placed(self, order_id: str, at: float) -> None:
        self.times(order_id).placed = at

    def stuck(self, order_ids: list[str]) -> str:
        """Where the orders not yet done have got to, e.g. "3 not confirmed, 4 confirmed, not notified"."""
        where: dict[str, list[str]] = {}
        for order_id in order_ids:
            times = self.orders.get(order_id, OrderTimes())
            if times.done is not None:
                continue
            if times.confirmed is None:
                step = "not confirmed"
            elif times.notified is None:
                step = "confirmed, no shipped notification"
            elif times.projected_shipped is None:
                step = "notified, shipment not projected"
            else:
                step = "notified, notification not projected"
            where.setdefault(step, []).append(order_id)
        said = "; ".join(f"{len(ids)} {step} (e.g. {', '.join(ids[:3])})" for step, ids in where.items())
        return f"{said}; {self._positions()}" if where else said

    def _positions(self) -> str:
        """Per partition: the last offset tailed, the projector's tracked offset and the first still waiting."""
        parts = []
        for position in sorted(self._waiting.keys() | self._tailed.keys()):
            waiting = self._waiting.get(position)
            head = f", waiting from {waiting[0][0]} ({len(waiting)})" if waiting else ""
            tailed, tracked = self._tailed.get(position, -1), self._tracked.get(position, -1)
            parts.append(f"{position[0]}/{position[1]} tailed {tailed} projected {tracked}{head}")
        gaps = ", ".join(f"{t}/{p} {a}->{b}" for (t, p), a, b in self._gaps[:5])
        return "; ".join(parts) + (f"; tail skipped offsets: {gaps}" if gaps else "")

    def done_count(self, phase: str) -> int:
        return sum(1 for _, order_id in self.done_times if order_id.startswith(phase))

    async def start(self) -> None:
        names = [f"{self.prefix}{topics.ORDERS}", f"{self.prefix}{topics.NOTIFICATIONS}"]
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=5,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            client_id="oms-bench-tail",
        )
        await consumer.start()
        assigned = await partitions_of(consumer, names)
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        self._consumer = consumer
        self._tasks = [
            asyncio.create_task(self._tail(), name="log tail"),
            asyncio.create_task(self._poll_positions(), name="projector poller"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()

    async def _tail(self) -> None:
        assert self._consumer is not None
        orders_topic = f"{self.prefix}{topics.ORDERS}"
        while True:
            batch = await self._consumer.getmany(timeout_ms=50, max_records=10_000)
            now = time.time()
            for tp, records in batch.items():
                self._took((tp.topic, tp.partition), tp.topic == orders_topic, records, now)

    def _took(self, position: Position, on_orders: bool, records: list[Any], now: float) -> None:
        """Records tailed from one partition, in offset order; a skipped offset is remembered for the report."""
        for record in records:
            previous = self._tailed.get(position)
            if previous is not None and record.offset != previous + 1:
                self._gaps.append((position, previous, record.offset))
            self._tailed[position] = record.offset
            self._seen(position, on_orders, record.offset, record.key, record.value, now)

    def _seen(
        self, position: Position, on_orders: bool, offset: int, key: bytes | None, value: bytes, now: float
    ) -> None:
        if key is None or value is None:
            return
        if on_orders:
            if _CONFIRMED in value:
                self.times(key.decode()).confirmed = now
            elif _SHIPPED in value:
                self._waiting.setdefault(position, deque()).append((offset, key.decode(), "shipped"))
        elif _SENT in value and _KIND_SHIPPED in value:
            order_id = key.decode()
            self.times(order_id).notified = now
            self._waiting.setdefault(position, deque()).append((offset, order_id, "notified"))
            self._maybe_done(order_id)

    async def _poll_positions(self) -> None:
        conn = sqlite3.connect(self.views_db, timeout=30)
        try:
            while True:
                await asyncio.sleep(self.poll_interval_s)
                try:
                    rows = conn.execute(
                        'SELECT topic, partition, "offset" FROM projection_tracking WHERE projection = ?', ("orders",)
                    ).fetchall()
                except sqlite3.OperationalError:  # not created yet
                    continue
                self._covered({(topic, partition): offset for topic, partition, offset in rows}, time.time())
        finally:
            conn.close()

    def _covered(self, tracked: dict[Position, int], now: float) -> None:
        self._tracked = tracked
        for position, waiting in self._waiting.items():
            last = tracked.get(position, -1)
            while waiting and waiting[0][0] <= last:
                _, order_id, what = waiting.popleft()
                times = self.times(order_id)
                if what == "shipped":
                    times.projected_shipped = now
                else:
                    times.projected_notified = now
                self._maybe_done(order_id)

    def _maybe_done(self, order_id: str) -> None:
        done = self.orders[order_id].done
        if done is not None and order_id not in self._finished:
            self._finished.add(order_id)
            self.done_times.append((done, order_id))

    def check(self) -> None:
        """Raise what stopped the tail or the poller, if one has stopped: no order would be done after it."""
        for task in self._tasks:
            if task.done() and not task.cancelled():
                raise BenchFailed(f"the bench's {task.get_name()} stopped: {task.exception()!r}")

    async def wait_done(self, phase: str, count: int, timeout_s: float, check: Callable[[], None]) -> bool:
        """Wait until `count` orders whose id starts with `phase` are done; `check` raises if a child died."""
        deadline = time.monotonic() + timeout_s
        while self.done_count(phase) < count:
            check()
            self.check()
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True


def percentiles(values: list[float], wanted: tuple[int, ...] = (50, 95, 99)) -> dict[str, float]:
    """Nearest-rank percentiles of `values` (seconds) in milliseconds."""
    if not values:
        return {f"p{p}": 0.0 for p in wanted}
    ordered = sorted(values)
    out = {}
    for p in wanted:
        rank = max(1, -(-p * len(ordered) // 100))
        out[f"p{p}"] = round(ordered[rank - 1] * 1000, 1)
    out["max"] = round(ordered[-1] * 1000, 1)
    return out
