"""What `/metrics` reads at each scrape besides the API's own counters: the exceptions desk (dead letters by reason,
items by status) from the views database, and from the broker how far behind every reader is: consumer groups by
their committed offsets, projections by the offsets their database tracks (they commit nothing to Kafka), each
against the partitions' true ends."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from adapters.http.api.metrics import ApiMetrics
from adapters.kafka.lag import PartitionLag, group_lags, group_names, projector_lag
from adapters.kafka.offsets import Position, log_end_offsets
from adapters.sql.desk import SqlDesk
from adapters.sql.reconciliations import latest_differences
from adapters.sql.webhook_tables import ACTIVE, FAILED, PAUSED, PENDING
from adapters.sql.webhooks import WebhookStore
from events import topics
from projections.projector import ARCHIVE, PROJECTIONS, Projection
from projections.tables import view_schemas
from projections.tracking import tracked_offsets

log = logging.getLogger(__name__)

STAGE_OF_TOPIC = {
    topics.ORDERS: "orders",
    topics.SHIPMENTS: "orders",
    topics.ORDER_REPLIES: "orders",
    topics.INVENTORY: "inventory",
    topics.SHIPMENT_REQUESTS: "shipping",
    topics.NOTIFICATIONS: "notify",
}
"""The pipeline stage that reads each topic (each topic has one reading stage: pipeline/runtime/app.py)."""
READ_TOPICS = (*topics.PUBLIC_TOPICS, topics.ORDER_REPLIES, topics.SHIPMENT_REQUESTS)


@dataclass
class Monitor:
    """`views` holds the desk and the views' tracked offsets; `history`, when given, the archive's."""

    bootstrap: str
    topic_prefix: str
    pipeline_group: str
    views: Engine
    history: Engine | None = None
    timeout_s: float = 10.0
    min_interval_s: float = 1.0  # scrapes closer together than this share one reading
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    _read_at: float = field(default=-1e9, init=False, repr=False)

    async def refresh(self, metrics: ApiMetrics) -> None:
        """Set every figure; a part that cannot be read now is counted in `oms_monitor_errors` and left as it was."""
        async with self._lock:
            if time.monotonic() - self._read_at < self.min_interval_s:
                return
            await self._read(metrics)
            self._read_at = time.monotonic()

    async def _read(self, metrics: ApiMetrics) -> None:
        try:
            await asyncio.to_thread(self._desk_figures, metrics)
        except SQLAlchemyError:
            log.warning("metrics: the views database did not answer", exc_info=True)
            metrics.monitor_errors.labels(source="database").inc()
        try:
            await asyncio.wait_for(self._lag_figures(metrics), self.timeout_s * 2)
        except Exception as error:  # a scrape must answer, whatever broke
            log.warning("metrics: the broker's figures could not be read (%s)", type(error).__name__)
            metrics.monitor_errors.labels(source="broker").inc()

    def _desk_figures(self, metrics: ApiMetrics) -> None:
        desk = SqlDesk(self.views)
        by_reason = desk.dead_letters_by_reason()
        metrics.deadletters.clear()
        for (processor, kind), count in by_reason.items():
            metrics.deadletters.labels(processor=processor, kind=kind).set(count)
        metrics.set_deadlettered(sum(by_reason.values()))
        metrics.desk_items.clear()
        for (category, status), count in desk.items_by_status().items():
            metrics.desk_items.labels(category=category, status=status).set(count)
        for projection, differences in latest_differences(self.views).items():
            metrics.view_differences.labels(projection=projection).set(differences)
        self._webhook_figures(metrics)

    def _webhook_figures(self, metrics: ApiMetrics) -> None:
        figures = WebhookStore(self.views).waiting_figures()
        if figures is None:
            return  # no webhooks here: no series
        subscriptions, waiting = figures
        for gauge, counts, statuses in (
            (metrics.webhook_subscriptions, subscriptions, (ACTIVE, PAUSED)),
            (metrics.webhook_deliveries_waiting, waiting, (PENDING, FAILED)),
        ):
            for status in statuses:  # every status, 0 too: an alert on `paused > 0` needs the series
                gauge.labels(status=status).set(counts.get(status, 0))

    async def _lag_figures(self, metrics: ApiMetrics) -> None:
        names = [f"{self.topic_prefix}{name}" for name in READ_TOPICS]
        ends = await log_end_offsets(self.bootstrap, names, self.timeout_s)
        groups = await group_names(self.bootstrap, self.topic_prefix, self.timeout_s)
        lags = await group_lags(self.bootstrap, groups, ends)
        projected = await self._projector_lags(metrics, ends)
        metrics.clear_lags()
        for lag in [*lags, *projected]:
            metrics.set_consumer_lag(lag.group, lag.topic, lag.partition, lag.lag)
            metrics.consumer_offset.labels(group=lag.group, topic=lag.topic, partition=str(lag.partition)).set(
                lag.position
            )
        for stage, consumed in stage_consumed(self.topic_prefix, self.pipeline_group, lags).items():
            metrics.stage_consumed.labels(stage=stage).set(consumed)

    async def _projector_lags(self, metrics: ApiMetrics, ends: Mapping[Position, int]) -> list[PartitionLag]:
        found: list[PartitionLag] = []
        for projection in PROJECTIONS.values():
            engine = self.history if projection is ARCHIVE else self.views
            if engine is None:
                continue
            tracked = await asyncio.to_thread(_tracked, engine, projection)
            if tracked is None:
                continue  # not running against this database
            own = {p: end for p, end in ends.items() if p[0] in self._topics_of(projection)}
            lag = await projector_lag(self.bootstrap, projection.name, own, tracked, self.timeout_s)
            metrics.projector_lag_events.labels(projection=projection.name).set(lag.events)
            metrics.projector_lag_seconds.labels(projection=projection.name).set(round(lag.seconds, 3))
            found += [replace(part, group=f"{self.topic_prefix}{projection.group}") for part in lag.partitions]
        return found

    def _topics_of(self, projection: Projection) -> set[str]:
        return {f"{self.topic_prefix}{name}" for name in projection.topics}


def stage_consumed(prefix: str, pipeline_group: str, lags: list[PartitionLag]) -> dict[str, int]:
    """Per stage, the records the pipeline's group has committed past on the topics the stage reads."""
    consumed: dict[str, int] = {}
    for lag in lags:
        stage = STAGE_OF_TOPIC.get(lag.topic.removeprefix(prefix))
        if lag.group == pipeline_group and stage is not None:
            consumed[stage] = consumed.get(stage, 0) + lag.position
    return consumed


def _tracked(engine: Engine, projection: Projection) -> dict[Position, int] | None:
    """The offsets `projection` has applied, or None when it was never prepared in `engine` (it does not run here)."""
    with engine.connect() as conn:
        try:
            prepared = conn.execute(select(view_schemas.c.version).where(view_schemas.c.projection == projection.name))
            if prepared.first() is None:
                return None
            return tracked_offsets(conn, projection.name)
        except SQLAlchemyError:
            return None  # no tables yet
