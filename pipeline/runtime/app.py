"""The faust application: topics, agents and rebalance hooks around the stages, and the payment timer.

Built by `build_pipeline()`; nothing is created or connected at import time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from events import (
    Event,
    EventData,
    OrderAwaitingPayment,
    OrderBackorderCleared,
    OrderBackordered,
    OrderCancelled,
    OrderCancelRejected,
    OrderChanged,
    OrderConfirmed,
    OrderDelivered,
    OrderHandedOver,
    OrderRequestRefused,
    OrderShipped,
    PaymentCaptureRequested,
    PaymentRecorded,
    PaymentVoidRequested,
    RefundIssued,
    ReturnAuthorized,
    ReturnRecorded,
    ShipmentRequested,
    StockCommitted,
    StockLow,
    StockReleased,
    StockReservationFailed,
    StockReserved,
    topics,
    utc_now,
)
from pipeline.config import PipelineConfig
from pipeline.ports import Carrier, ChangelogReader, LocalStateStore, Notifier
from pipeline.rules.common import Decision
from pipeline.rules.inventory import SkuStock, decide_stock
from pipeline.rules.orders import OrderState, decide_order
from pipeline.runtime.faust_internals import App, kafka_producer
from pipeline.runtime.payment_timer import PaymentExpiry
from pipeline.runtime.produce import KeyHomes
from pipeline.runtime.stage_runner import StageRunner, send_all
from pipeline.stages import notify, shipping
from pipeline.stages.intake import Intake
from pipeline.stages.processor import KeyedProcessor
from pipeline.stages.state import FLUSH_EVERY_S, StageState


def event_types(*models: type[EventData]) -> frozenset[str]:
    return frozenset(model.event_type for model in models)


INVENTORY_OUTPUTS = event_types(StockReserved, StockReservationFailed, StockReleased, StockCommitted, StockLow)
ORDER_OUTPUTS = event_types(
    OrderAwaitingPayment,
    OrderBackordered,
    OrderBackorderCleared,
    OrderConfirmed,
    OrderCancelled,
    OrderCancelRejected,
    OrderRequestRefused,
    OrderChanged,
    OrderHandedOver,
    OrderShipped,
    OrderDelivered,
    RefundIssued,
    PaymentRecorded,
    PaymentCaptureRequested,
    PaymentVoidRequested,
    ReturnAuthorized,
    ReturnRecorded,
    ShipmentRequested,
)
REPLY_TYPES = event_types(StockReserved, StockReservationFailed, StockReleased)


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

    def source(*names: str) -> Any:
        return app.topic(*names, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw")

    def state(table: str) -> StageState:
        topic = config.changelog_topic(table)
        return StageState(topic, topic, store, reader)  # its changelog names the state, in the local store too

    def route_default(event: Event[EventData]) -> list[tuple[str, str]]:
        return [(config.topic(event.topic), event.subject)]

    def route_orders(event: Event[EventData]) -> list[tuple[str, str]]:
        routes = route_default(event)
        if event.type == ShipmentRequested.event_type:
            routes.append((config.shipment_requests_topic, event.subject))
        return routes

    def route_inventory(event: Event[EventData]) -> list[tuple[str, str]]:
        routes = route_default(event)
        if event.type in REPLY_TYPES:
            routes.append((config.order_replies_topic, str(event.data.order_id)))  # type: ignore[attr-defined]
        return routes

    async def handle_stock(state: SkuStock | None, event: Event[EventData], now: datetime) -> Decision[SkuStock]:
        return decide_stock(state, event, now)

    async def handle_order(state: OrderState | None, event: Event[EventData], now: datetime) -> Decision[OrderState]:
        return decide_order(
            state, event, now, payment_timeout=config.payment_timeout, split_shipments=config.split_shipments
        )

    homes = KeyHomes(lambda: kafka_producer(app))

    def processor(
        name: str, handle: Any, route: Any, ignored: frozenset[str], reads: dict[str, str], concurrent_keys: int = 1
    ) -> Any:
        keyed_by_order = frozenset({config.order_replies_topic}) & set(reads)
        intake = Intake(reads, keyed_by_order, homes)
        return lambda load, applied: KeyedProcessor(
            name,
            handle,
            route,
            load,
            config.deadletter_topic,
            ignored,
            concurrent_keys=concurrent_keys,
            applied=applied,
            intake=intake,
        )

    inventory_reads = {config.topic(topics.INVENTORY): topics.INVENTORY}
    # One agent owns the order state: it reads everything keyed by order id, so nothing races.
    order_reads = {
        config.topic(topics.ORDERS): topics.ORDERS,
        config.topic(topics.SHIPMENTS): topics.SHIPMENTS,
        config.order_replies_topic: topics.INVENTORY,
    }
    shipment_reads = {config.shipment_requests_topic: topics.SHIPMENTS}  # each topic has one reading stage
    notification_reads = {config.topic(topics.NOTIFICATIONS): topics.NOTIFICATIONS}

    inventory = StageRunner(
        app,
        homes,
        state("sku_to_stock"),
        processor("inventory", handle_stock, route_inventory, INVENTORY_OUTPUTS, inventory_reads),
        SkuStock,
    )
    orders = StageRunner(
        app,
        homes,
        state("order_to_state"),
        processor("orders", handle_order, route_orders, ORDER_OUTPUTS, order_reads),
        OrderState,
    )
    shipments = StageRunner(
        app,
        homes,
        state("order_to_shipments"),
        processor(
            "shipping",
            shipping.handler(carrier, attempts=config.carrier_attempts, backoff_s=config.carrier_backoff_s),
            route_default,
            shipping.IGNORED,
            shipment_reads,
            concurrent_keys=config.io_concurrency,
        ),
        shipping.ShippingState,
    )
    notifications = StageRunner(
        app,
        homes,
        state("order_to_notifications"),
        processor(
            "notify", notify.handler(notifier), route_default, notify.IGNORED, notification_reads, config.io_concurrency
        ),
        notify.NotifyState,
    )
    stages: dict[StageRunner[Any], dict[str, str]] = {
        inventory: inventory_reads,
        orders: order_reads,
        shipments: shipment_reads,
        notifications: notification_reads,
    }

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

    app.passed_over = ignored_by_every_reader(
        [
            (tuple(inventory_reads), INVENTORY_OUTPUTS),
            (tuple(order_reads), ORDER_OUTPUTS),
            (tuple(shipment_reads), shipping.IGNORED),
            (tuple(notification_reads), notify.IGNORED),
        ]
    )
    batch, within = config.batch_size, config.batch_within_s

    async def drive(stage: StageRunner[Any], stream: Any) -> None:
        async for events in stream.take_events(batch, within):
            await stage.process_until_done(events)

    @app.agent(source(*inventory_reads), name="inventory_processor")
    async def inventory_processor(stream: Any) -> None:
        await drive(inventory, stream)

    @app.agent(source(*order_reads), name="order_processor")
    async def order_processor(stream: Any) -> None:
        await drive(orders, stream)

    @app.agent(source(*shipment_reads), name="shipment_processor")
    async def shipment_processor(stream: Any) -> None:
        await drive(shipments, stream)

    @app.agent(source(*notification_reads), name="notification_processor")
    async def notification_processor(stream: Any) -> None:
        await drive(notifications, stream)

    expiry = PaymentExpiry(config, orders)

    async def payment_timeout() -> None:
        await send_all(app, await expiry.due_messages(utc_now()))

    app.timer(config.timer_interval_s, name="payment_timeout")(payment_timeout)

    return app


def ignored_by_every_reader(readers: Sequence[tuple[Sequence[str], frozenset[str]]]) -> dict[str, frozenset[bytes]]:
    """Per topic, the event types that every stage reading it ignores: the worker passes those over unread."""
    ignored: dict[str, frozenset[str]] = {}
    for names, types in readers:
        for name in names:
            ignored[name] = ignored[name] & types if name in ignored else types
    return {name: frozenset(kind.encode() for kind in types) for name, types in ignored.items() if types}
