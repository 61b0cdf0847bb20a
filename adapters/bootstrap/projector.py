"""The projector's wiring: settings in, one runner per projection out, the archive on its own engine."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from adapters.bootstrap.broker import kafka_servers
from adapters.kafka.projection_runner import FETCH_MAX_WAIT_MS, ProjectionRunner, run_projections
from adapters.runtime import tune_gc
from adapters.settings import Settings
from adapters.sql.engines import archive_engine, views_engine
from adapters.sql.scheduled_reconcile import ScheduledReconcile
from projections.projector import ARCHIVE, DESK, INVENTORY, ORDERS, PROJECTIONS

DEFAULT_PROJECTIONS = (ORDERS.name, INVENTORY.name, ARCHIVE.name, DESK.name)


@dataclass(frozen=True)
class Projector:
    """`oms project`: a runner per projection, and the topics' shape to create when they are missing."""

    runners: list[ProjectionRunner]
    partitions: int
    replication_factor: int
    reconciler: ScheduledReconcile | None = None

    @property
    def applied(self) -> int:
        return sum(runner.applied for runner in self.runners)

    async def run(self, stop: asyncio.Event, *, until_caught_up: bool = False) -> None:
        """Every projection until `stop` (or, with `until_caught_up`, until the ends seen at start), and the scheduled
        reconcile beside them."""
        reconciling = asyncio.create_task(self.reconciler.run(stop)) if self.reconciler else None
        try:
            await run_projections(
                self.runners,
                stop,
                partitions=self.partitions,
                replication_factor=self.replication_factor,
                until_caught_up=until_caught_up,
            )
        finally:
            if reconciling is not None:
                reconciling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reconciling

    def run_until_signalled(self, *, until_caught_up: bool = False) -> None:
        """The process's main loop: run until SIGINT or SIGTERM (or caught up)."""

        async def main() -> None:
            tune_gc()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await self.run(stop, until_caught_up=until_caught_up)

        asyncio.run(main())


def build_projector(
    settings: Settings,
    names: Sequence[str] = DEFAULT_PROJECTIONS,
    *,
    group: str | None = None,
    batch_size: int | None = None,
    pause_in_transaction_s: float = 0.0,
    views: Engine | None = None,
    history: Engine | None = None,
    reconcile_every_s: float | None = None,
) -> Projector:
    """The projections `names` from `settings` alone (`settings.kafka_bootstrap` must be set): the archive
    writes to the archive engine, every view to the views engine. `group` prefixes each projection's own
    consumer group (a new one rebuilds from Kafka); `views` and `history` are the tests' own engines.
    `reconcile_every_s` reconciles each view run here with a rebuild from the archive that often."""
    bootstrap = kafka_servers(settings)
    views = views or views_engine(settings)
    if ARCHIVE.name in names or reconcile_every_s:
        history = history or archive_engine(settings)
    runners = []
    for name in names:
        projection = PROJECTIONS[name]
        runner = ProjectionRunner(
            history if projection is ARCHIVE and history is not None else views,
            projection,
            bootstrap,
            settings.topic_prefix,
            group_id=f"{group}.{projection.group}" if group else None,
            pause_in_transaction_s=pause_in_transaction_s,
            fetch_max_wait_ms=max(settings.fetch_max_wait_ms, FETCH_MAX_WAIT_MS),
            batch_size=ProjectionRunner.batch_size if batch_size is None else batch_size,
        )
        runners.append(runner)
    reconciler = None
    if reconcile_every_s and history is not None:
        reconciled = [PROJECTIONS[name] for name in names if PROJECTIONS[name] is not ARCHIVE]
        reconciler = ScheduledReconcile(views, history, reconciled, reconcile_every_s)
    return Projector(runners, settings.partitions, settings.replication_factor, reconciler)
