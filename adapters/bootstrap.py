"""The composition root: settings in, a wired pipeline out. Tests call it with their own fakes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adapters.kafka.admin import ensure_topics
from adapters.kafka.offsets import KafkaChangelogReader
from adapters.outbound.carriers import SimulatedCarrier
from adapters.outbound.notifiers import FileOutbox, SmtpNotifier
from adapters.settings import Settings
from adapters.sql.local_state import SqliteStateStore
from events import topics
from pipeline.config import STAGE_TABLES, PipelineConfig
from pipeline.ports import Carrier, Notifier

STATE_FILE = "pipeline-state.sqlite3"
"""The processors' local copy of their changelogs, under the data folder (workers on one machine share it)."""


def pipeline_config(settings: Settings, bootstrap: str) -> PipelineConfig:
    return PipelineConfig(
        bootstrap=bootstrap,
        topic_prefix=settings.topic_prefix,
        partitions=settings.partitions,
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


async def ensure_pipeline_topics(config: PipelineConfig, replication_factor: int = 1) -> list[str]:
    """The public topics, the internal replies topic and the stages' changelogs, each with the same partitions
    (a stage's state for a key lives in the changelog partition of the key's input partition)."""
    names = [config.topic(name) for name in topics.PUBLIC_TOPICS]
    names += [config.order_replies_topic, config.shipment_requests_topic]
    names += [config.changelog_topic(table) for table in STAGE_TABLES]
    return await ensure_topics(config.bootstrap, names, config.partitions, replication_factor)


def bootstrap_pipeline(
    settings: Settings, bootstrap: str, *, carrier: Carrier | None = None, notifier: Notifier | None = None
) -> Any:
    from pipeline.runtime.app import build_pipeline  # deferred: importing faust is slow and only workers need it

    config = pipeline_config(settings, bootstrap)
    return build_pipeline(
        config,
        carrier=carrier or SimulatedCarrier(),
        notifier=notifier or default_notifier(settings),
        store=SqliteStateStore(settings.data_dir / STATE_FILE),
        reader=KafkaChangelogReader(bootstrap),
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
