"""Waiting until the pipeline is quiet: nothing new on the log for a while, the workers' group committed up to
every input partition's end, and the projector's tracked positions (in its databases) at every end.

Ends come from `adapters.kafka.offsets.log_end_offsets` (the embedded broker's own answer stops short).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from adapters.kafka.offsets import Position, log_end_offsets
from adapters.sql.engines import engine_for
from events import topics
from projections.projector import PROJECTIONS
from projections.tracking import tracked_offsets

WORKER_INPUTS = (topics.ORDERS, topics.INVENTORY, topics.SHIPMENTS, topics.NOTIFICATIONS, topics.ORDER_REPLIES)
"""What the workers' consumer group reads (pipeline/app.py)."""


class NeverQuiet(TimeoutError):
    """The pipeline did not settle in time: something is stuck (the message says what is behind)."""


@dataclass(frozen=True)
class Lag:
    """How far behind each reader is, per partition that has records."""

    ends: dict[Position, int]
    workers: dict[Position, int]  # end - committed
    projector: dict[str, dict[Position, int]]  # projection -> end - (tracked + 1)

    @property
    def is_caught_up(self) -> bool:
        return not any(self.workers.values()) and not any(
            behind for lags in self.projector.values() for behind in lags.values()
        )

    def describe(self) -> str:
        behind = {f"{t}[{p}]": n for (t, p), n in self.workers.items() if n}
        projected = {name: {f"{t}[{p}]": n for (t, p), n in lags.items() if n} for name, lags in self.projector.items()}
        return f"workers behind {behind or 'nowhere'}; projector behind { ({k: v for k, v in projected.items() if v}) }"


@dataclass
class Settler:
    bootstrap: str
    prefix: str
    views_db: Path
    history_db: Path
    pipeline_app: str = "oms-pipeline"
    projections: tuple[str, ...] = tuple(PROJECTIONS)  # () when no projector runs

    async def lag(self) -> Lag:
        worker_topics = [f"{self.prefix}{name}" for name in WORKER_INPUTS]
        projected = {name: [f"{self.prefix}{t}" for t in PROJECTIONS[name].topics] for name in self.projections}
        names = sorted({*worker_topics, *(t for ts in projected.values() for t in ts)})
        ends = {position: end for position, end in (await log_end_offsets(self.bootstrap, names)).items() if end}
        committed = await self._committed([p for p in ends if p[0] in worker_topics])
        workers = {p: ends[p] - committed.get(p, 0) for p in ends if p[0] in worker_topics}
        tracked = await asyncio.to_thread(self._tracked)
        projector = {
            name: {p: ends[p] - (tracked[name].get(p, -1) + 1) for p in ends if p[0] in wanted}
            for name, wanted in projected.items()
        }
        return Lag(ends, workers, projector)

    async def wait(self, *, quiet_s: float, timeout_s: float, not_before: float = 0.0) -> Lag:
        """Until caught up with no new record for `quiet_s` (and not before the monotonic time `not_before`)."""
        deadline = time.monotonic() + timeout_s
        last_ends: dict[Position, int] = {}
        changed_at = time.monotonic()
        while True:
            lag = await self.lag()
            now = time.monotonic()
            if lag.ends != last_ends:
                last_ends, changed_at = lag.ends, now
            if lag.is_caught_up and now - changed_at >= quiet_s and now >= not_before:
                return lag
            if now > deadline:
                raise NeverQuiet(f"not quiet after {timeout_s:.0f} s: {lag.describe()}")
            await asyncio.sleep(1.0)

    async def _committed(self, positions: list[Position]) -> dict[Position, int]:
        """The workers' group's committed offsets (0 where it has none)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=f"{self.prefix}{self.pipeline_app}", enable_auto_commit=False
        )
        await consumer.start()
        try:
            found = {}
            for topic, partition in positions:
                offset = await consumer.committed(TopicPartition(topic, partition))
                found[(topic, partition)] = offset or 0
            return found
        finally:
            await consumer.stop()

    def _tracked(self) -> dict[str, dict[Position, int]]:
        tracked: dict[str, dict[Position, int]] = {}
        for name in self.projections:
            path = self.history_db if name == "archive" else self.views_db
            tracked[name] = _tracked_in(path, name) if path.exists() else {}
        return tracked


def _tracked_in(path: Path, projection: str) -> dict[Position, int]:
    engine: Engine = engine_for(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return tracked_offsets(conn, projection)
    except OperationalError:  # the projector has not created its tables yet
        return {}
    finally:
        engine.dispose()


async def group_members(bootstrap: str, group: str) -> int:
    """Members of `group` once it is stable (0 while it rebalances)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
        [(_error, _name, state, *_rest, members)] = response.groups
        return len(members) if state == "Stable" else 0
    finally:
        await admin.close()


async def wait_until_joined(
    bootstrap: str, group: str, members: int, timeout_s: float, on_wait: Callable[[], None] = lambda: None
) -> None:
    """Until `group` is stable with `members` members; `on_wait` runs between looks (and may raise)."""
    deadline = time.monotonic() + timeout_s
    while await group_members(bootstrap, group) < members:
        on_wait()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{group} did not reach {members} members in {timeout_s:.0f} s")
        await asyncio.sleep(0.5)
