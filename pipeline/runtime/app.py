"""The faust application: topics, agents and rebalance hooks around the stages, and the payment timer.

Built by `build_pipeline()`; nothing is created or connected at import time. The stages themselves (what each
reads, routes and keeps) are assembled in `worker_stages`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from events import utc_now
from pipeline.config import PipelineConfig
from pipeline.ports import Carrier, ChangelogReader, LocalStateStore, Notifier
from pipeline.runtime.faust_internals import App, kafka_producer
from pipeline.runtime.payment_timer import PaymentExpiry
from pipeline.runtime.produce import KeyHomes
from pipeline.runtime.stage_runner import StageRunner, send_all
from pipeline.runtime.worker_stages import INVENTORY_OUTPUTS, ORDER_OUTPUTS, Stages, build_stages
from pipeline.stages import notify, shipping
from pipeline.stages.state import FLUSH_EVERY_S


def faust_app(config: PipelineConfig) -> App:
    app = App(
        config.app_id,
        broker=f"kafka://{config.bootstrap}",
        store="memory://",
        datadir=f"{config.data_dir}/{{conf.name}}-data",
        topic_partitions=config.partitions,
        topic_replication_factor=1,
        topic_disable_leader=True,
        table_standby_replicas=0,
        web_enabled=False,
        producer_acks=1,
        producer_linger_ms=5,
        producer_max_batch_size=256 * 1024,  # a stage sends its output as one batch per partition
        consumer_auto_offset_reset="earliest",
        broker_commit_every=1000,
        broker_commit_interval=0.5,
        # A new group's first join waits up to half the session timeout; faust's 60 s default makes
        # every start take 30 s. Heartbeats every third of it keep a busy worker in the group.
        broker_session_timeout=config.session_timeout_s,
        broker_heartbeat_interval=config.session_timeout_s / 4,
        stream_buffer_maxsize=8192,
        autodiscover=False,
    )
    app.fetch_max_wait_ms = config.fetch_max_wait_ms
    return app


def build_pipeline(
    config: PipelineConfig,
    *,
    carrier: Carrier,
    notifier: Notifier,
    store: LocalStateStore,
    reader: ChangelogReader,
) -> App:
    """The whole pipeline as one faust app; `oms worker` runs it, more workers share the partitions."""
    app = faust_app(config)
    homes = KeyHomes(lambda: kafka_producer(app))
    stages = build_stages(app, config, homes, carrier=carrier, notifier=notifier, store=store, reader=reader)
    keep_states_with_partitions(app, stages.with_reads())
    reads = stages.reads
    app.passed_over = ignored_by_every_reader(
        [
            (tuple(reads.inventory), INVENTORY_OUTPUTS),
            (tuple(reads.orders), ORDER_OUTPUTS),
            (tuple(reads.shipments), shipping.IGNORED),
            (tuple(reads.notifications), notify.IGNORED),
        ]
    )
    add_agents(app, config, stages)
    expiry = PaymentExpiry(config, stages.orders)

    async def payment_timeout() -> None:
        await send_all(app, await expiry.due_messages(utc_now()))

    app.timer(config.timer_interval_s, name="payment_timeout")(payment_timeout)

    return app


def keep_states_with_partitions(app: App, stages: dict[StageRunner[Any], dict[str, str]]) -> None:
    """Each stage's state follows the partitions of the topics it reads, and its local copy is written now and then."""

    async def on_revoked(sender: Any, /, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        for stage in stages:
            stage.state.revoke()
            await stage.state.flush()

    async def on_assigned(sender: Any, /, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        assigned = kwargs.get("assigned", args[0] if args else ())
        for stage, reads in stages.items():
            stage.state.assign({tp.partition for tp in assigned if tp.topic in reads})

    async def flush_local_copies(sender: Any = None, /, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        for stage in stages:
            await stage.state.flush()

    # faust's signals, sent once a rebalance has revoked (after in-flight batches finished) or assigned partitions,
    # and once the consumer stopped for good
    app.on_partitions_revoked.connect(on_revoked)
    app.on_partitions_assigned.connect(on_assigned)
    app.on_before_shutdown.connect(flush_local_copies)
    # Idle, a stage's last writes would wait for its next batch to reach the local copy: the embedded broker
    # forgets its changelogs when it stops, and then the copy is all there is.
    app.timer(FLUSH_EVERY_S, name="flush_local_copies")(flush_local_copies)


def add_agents(app: App, config: PipelineConfig, stages: Stages) -> None:
    """One agent per stage, reading its topics in batches."""
    batch, within, reads = config.batch_size, config.batch_within_s, stages.reads

    def source(*names: str) -> Any:
        return app.topic(*names, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw")

    async def drive(stage: StageRunner[Any], stream: Any) -> None:
        async for events in stream.take_events(batch, within):
            await stage.process_until_done(events)

    @app.agent(source(*reads.inventory), name="inventory_processor")
    async def inventory_processor(stream: Any) -> None:
        await drive(stages.inventory, stream)

    @app.agent(source(*reads.orders), name="order_processor")
    async def order_processor(stream: Any) -> None:
        await drive(stages.orders, stream)

    @app.agent(source(*reads.shipments), name="shipment_processor")
    async def shipment_processor(stream: Any) -> None:
        await drive(stages.shipments, stream)

    @app.agent(source(*reads.notifications), name="notification_processor")
    async def notification_processor(stream: Any) -> None:
        await drive(stages.notifications, stream)


def ignored_by_every_reader(readers: Sequence[tuple[Sequence[str], frozenset[str]]]) -> dict[str, frozenset[bytes]]:
    """Per topic, the event types that every stage reading it ignores: the worker passes those over unread."""
    ignored: dict[str, frozenset[str]] = {}
    for names, types in readers:
        for name in names:
            ignored[name] = ignored[name] & types if name in ignored else types
    return {name: frozenset(kind.encode() for kind in types) for name, types in ignored.items() if types}
