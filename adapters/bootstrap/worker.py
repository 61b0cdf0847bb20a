"""The worker's wiring: settings in, the stream processors' faust app out (tests pass their own fakes)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from adapters.bootstrap.broker import kafka_servers
from adapters.kafka.admin import ensure_topics
from adapters.kafka.offsets import KafkaChangelogReader
from adapters.outbound.carriers import SimulatedCarrier
from adapters.outbound.notifiers import FileOutbox, SmtpNotifier
from adapters.runtime import tune_gc
from adapters.settings import Settings
from adapters.sql.local_state import SqliteStateStore
from events import topics
from pipeline.config import STAGE_TABLES, PipelineConfig
from pipeline.ports import Carrier, Notifier

STATE_FILE = "pipeline-state.sqlite3"
"""The processors' local copy of their changelogs, under the data folder (workers on one machine share it)."""


def pipeline_config(settings: Settings, bootstrap: str | None = None) -> PipelineConfig:
    """The processors' configuration: every value from `settings` (the Kafka of `bootstrap` when given)."""
    return PipelineConfig(
        bootstrap=kafka_servers(settings, bootstrap),
        topic_prefix=settings.topic_prefix,
        partitions=settings.partitions,
        replication_factor=settings.replication_factor,
        payment_timeout=timedelta(seconds=settings.payment_timeout_s),
        split_shipments=settings.split_shipments,
        timer_interval_s=min(1.0, settings.payment_timeout_s / 4),
        app_name=settings.pipeline_app,
        data_dir=str(settings.data_dir),
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        batch_within_s=settings.batch_within_ms / 1000,
    )


def default_notifier(settings: Settings) -> Notifier:
    if settings.notifier == "smtp":
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpNotifier(
            settings.smtp_host, settings.smtp_port, settings.smtp_sender, settings.smtp_username, password
        )
    return FileOutbox(settings.data_dir / "outbox", sender=settings.smtp_sender)


async def ensure_pipeline_topics(config: PipelineConfig) -> list[str]:
    """The public topics, the internal replies topic and the stages' changelogs, each with the same partitions
    (a stage's state for a key lives in the changelog partition of the key's input partition)."""
    names = [config.topic(name) for name in topics.PUBLIC_TOPICS]
    names += [config.order_replies_topic, config.shipment_requests_topic]
    names += [config.changelog_topic(table) for table in STAGE_TABLES]
    return await ensure_topics(config.bootstrap, names, config.partitions, config.replication_factor)


@dataclass(frozen=True)
class PipelineWorker:
    """`oms worker`: the processors' configuration and the adapters they call, ready to run."""

    config: PipelineConfig
    carrier: Carrier
    notifier: Notifier
    state_file: Path

    def app(self) -> Any:
        """The faust app of the whole pipeline (built on the current event loop)."""
        from pipeline.runtime.app import build_pipeline  # deferred: importing faust is slow and only workers need it

        return build_pipeline(
            self.config,
            carrier=self.carrier,
            notifier=self.notifier,
            store=SqliteStateStore(self.state_file),
            reader=KafkaChangelogReader(self.config.bootstrap),
        )

    def run(self, loglevel: str) -> None:
        """Create the topics, then run the processors until stopped (faust's worker owns the process)."""
        asyncio.run(ensure_pipeline_topics(self.config))
        asyncio.set_event_loop(asyncio.new_event_loop())
        worker = quiet_faust_worker(self.app(), loglevel)
        tune_gc()
        worker.execute_from_commandline()


def build_worker(
    settings: Settings, *, carrier: Carrier | None = None, notifier: Notifier | None = None
) -> PipelineWorker:
    """The stream processors from `settings` alone (`settings.kafka_bootstrap` must be set)."""
    return PipelineWorker(
        config=pipeline_config(settings),
        carrier=carrier or SimulatedCarrier(),
        notifier=notifier or default_notifier(settings),
        state_file=settings.data_dir / STATE_FILE,
    )


def quiet_faust_worker(app: Any, loglevel: str) -> Any:
    """A faust `Worker` without its terminal spinner.

    The spinner sets the root logger to DEBUG so that it spins on every record: aiokafka then builds a
    debug record for every message it sends, about 5 % of a busy worker's time (py-spy, `oms bench`).
    """
    from faust.worker import Worker

    worker = Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    worker.spinner = None
    return worker
