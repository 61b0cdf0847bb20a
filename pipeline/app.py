"""The faust application: topics, tables and thin agents around the pure rules.

Built by `build_pipeline()`; nothing is created or connected at import time.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import faust
from pydantic import BaseModel

from events import Event, EventData, OrderPaymentExpired, encode, topics, utc_now
from pipeline import notify, shipping, transport
from pipeline.config import PipelineConfig
from pipeline.ports import Carrier, Notifier, StateStore
from pipeline.produce import kafka_producer, send_records
from pipeline.rules.common import Decision
from pipeline.rules.inventory import SkuStock, decide_stock
from pipeline.rules.orders import OrderState, decide_order, is_payment_overdue, payment_expired
from pipeline.shell import Incoming, KeyedProcessor, Message, StateCodec, Stored

log = logging.getLogger(__name__)

S = TypeVar("S", bound=BaseModel)

INVENTORY_OUTPUTS = frozenset(
    {"oms.stock.reserved", "oms.stock.reservation_failed", "oms.stock.released", "oms.stock.committed", "oms.stock.low"}
)
ORDER_OUTPUTS = frozenset(
    {
        "oms.order.awaiting_payment",
        "oms.order.backordered",
        "oms.order.confirmed",
        "oms.order.cancelled",
        "oms.order.cancel_rejected",
        "oms.order.shipped",
        "oms.order.delivered",
        "oms.refund.issued",
        "oms.shipment.requested",
    }
)
# Per stage, the most recently used. An order is busy for seconds, then rests: a small cache has nearly every
# hit, and keeps the garbage collector's full passes short (a cache of every state made them 400 ms each).
DECODED_STATES_KEPT = 5_000
REPLY_TYPES = frozenset({"oms.stock.reserved", "oms.stock.reservation_failed", "oms.stock.released"})


def faust_app(config: PipelineConfig) -> faust.App:
    app = transport.App(
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


class TableStage:
    """One keyed processor wired to a faust table: run a batch, send, wait for acks, then persist."""

    def __init__(
        self,
        app: faust.App,
        table: Any,
        processor_factory: Any,
        state_type: type[S],
        store: StateStore | None = None,
    ) -> None:
        self.app = app
        self.table = table
        self.codec = StateCodec(state_type)
        self.processor: KeyedProcessor[Any] = processor_factory(self.load)
        self.store = store
        self._restored = store is None
        self.on_saved: Callable[[str, Any], None] | None = None
        # Decoded states next to the table's bytes. An entry is used only while the table still holds the
        # very bytes object it was decoded from, so a changelog recovery after a rebalance can never be
        # shadowed by a stale decode.
        self._decoded: OrderedDict[bytes, tuple[bytes, Stored[Any]]] = OrderedDict()

    def load(self, key: str) -> Stored[Any]:
        key_bytes = key.encode()
        raw = self.table.data.get(key_bytes)
        cached = self._decoded.get(key_bytes)
        if cached is not None and cached[0] is raw:
            self._decoded.move_to_end(key_bytes)
            return cached[1]
        stored = self.codec.loads(raw)
        if raw is not None:
            self._remember(key_bytes, raw, stored)
        return stored

    def _remember(self, key: bytes, raw: bytes, stored: Stored[Any]) -> None:
        self._decoded[key] = (raw, stored)
        self._decoded.move_to_end(key)
        if len(self._decoded) > DECODED_STATES_KEPT:
            self._decoded.popitem(last=False)

    def restore(self) -> None:
        """Once, after faust has recovered the table: fill in what only the durable store remembers."""
        if self._restored or self.store is None:
            return
        for key, raw in self.store.load_all(self.table.name).items():
            if key not in self.table.data:
                self.table.data[key] = raw
        self._restored = True

    async def process(self, batch: Sequence[Any]) -> None:
        self.restore()
        incoming = [_incoming(event.message) for event in batch]
        result = await self.processor.run(incoming)
        await send_all(self.app, result.messages)
        changelog = self.table.changelog_topic.get_topic_name()
        written = []
        for key, (stored, partition) in result.states.items():
            if self.on_saved is not None:
                self.on_saved(key, stored.state)
            raw = self.codec.dumps(stored)
            key_bytes = key.encode()
            self.table.data[key_bytes] = raw
            self._remember(key_bytes, raw, stored)
            written.append((changelog, partition, key_bytes, raw, None))
        # The inputs are acked (and later committed) only once their state is on the changelog, so a
        # rebalance that restores the table from the changelog never restores it to before a committed input.
        await send_records(kafka_producer(self.app), written)
        if self.store is not None and written:
            rows = [(key_bytes, raw) for _, _, key_bytes, raw, _ in written]
            await asyncio.to_thread(self.store.save_many, self.table.name, rows)


def _incoming(message: Any) -> Incoming:
    return Incoming(message.topic, message.partition, message.offset, message.key, message.value)


async def send_all(app: faust.App, messages: Sequence[Message]) -> None:
    """Send and wait until the broker has every one: state is only persisted after this."""
    await send_records(kafka_producer(app), ((topic, None, key, value, kind) for topic, key, value, kind in messages))


def build_pipeline(
    config: PipelineConfig, *, carrier: Carrier, notifier: Notifier, store: StateStore | None = None
) -> faust.App:
    """The whole pipeline as one faust app; `oms worker` runs it, more workers share the partitions."""
    app = faust_app(config)

    def source(*names: str) -> Any:
        return app.topic(*names, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw")

    def table(name: str) -> Any:
        return app.Table(name, default=None, key_type=bytes, value_type=bytes)  # bytes -> raw serializers

    def route_default(event: Event[EventData]) -> list[tuple[str, str]]:
        return [(config.topic(event.topic), event.subject)]

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

    def processor(name: str, handle: Any, route: Any, ignored: frozenset[str], concurrent_keys: int = 1) -> Any:
        return lambda load: KeyedProcessor(
            name, handle, route, load, config.deadletter_topic, ignored, concurrent_keys=concurrent_keys
        )

    inventory = TableStage(
        app,
        table("sku_to_stock"),
        processor("inventory", handle_stock, route_inventory, INVENTORY_OUTPUTS),
        SkuStock,
        store,
    )
    orders = TableStage(
        app,
        table("order_to_state"),
        processor("orders", handle_order, route_default, ORDER_OUTPUTS),
        OrderState,
        store,
    )
    shipments = TableStage(
        app,
        table("order_to_shipments"),
        processor(
            "shipping",
            shipping.handler(carrier, attempts=config.carrier_attempts, backoff_s=config.carrier_backoff_s),
            route_default,
            shipping.IGNORED,
            concurrent_keys=config.io_concurrency,
        ),
        shipping.ShippingState,
        store,
    )
    notifications = TableStage(
        app,
        table("order_to_notifications"),
        processor("notify", notify.handler(notifier), route_default, notify.IGNORED, config.io_concurrency),
        notify.NotifyState,
        store,
    )

    inventory_reads = (config.topic(topics.INVENTORY),)
    # One agent owns the order state: it reads everything keyed by order id, so nothing races.
    order_reads = (config.topic(topics.ORDERS), config.topic(topics.SHIPMENTS), config.order_replies_topic)
    shipment_reads = (config.topic(topics.SHIPMENTS),)
    notification_reads = (config.topic(topics.NOTIFICATIONS),)
    app.passed_over = ignored_by_every_reader(
        [
            (inventory_reads, INVENTORY_OUTPUTS),
            (order_reads, ORDER_OUTPUTS),
            (shipment_reads, shipping.IGNORED),
            (notification_reads, notify.IGNORED),
        ]
    )
    inventory_topic = source(*inventory_reads)
    order_sources = source(*order_reads)
    shipment_topic = source(*shipment_reads)
    notification_topic = source(*notification_reads)
    batch, within = config.batch_size, config.batch_within_s

    async def drive(stage: TableStage, stream: Any) -> None:
        async for events in stream.take_events(batch, within):
            await stage.process(events)

    @app.agent(inventory_topic, name="inventory_processor")
    async def inventory_processor(stream: Any) -> None:
        await drive(inventory, stream)

    @app.agent(order_sources, name="order_processor")
    async def order_processor(stream: Any) -> None:
        await drive(orders, stream)

    @app.agent(shipment_topic, name="shipment_processor")
    async def shipment_processor(stream: Any) -> None:
        await drive(shipments, stream)

    @app.agent(notification_topic, name="notification_processor")
    async def notification_processor(stream: Any) -> None:
        await drive(notifications, stream)

    expiry = PaymentExpiry(config, orders)

    @app.timer(config.timer_interval_s, name="payment_timeout")
    async def payment_timeout() -> None:
        await send_all(app, expiry.due_messages(utc_now()))

    return app


def ignored_by_every_reader(readers: Sequence[tuple[Sequence[str], frozenset[str]]]) -> dict[str, frozenset[bytes]]:
    """Per topic, the event types that every stage reading it ignores: the worker passes those over unread."""
    ignored: dict[str, frozenset[str]] = {}
    for names, types in readers:
        for name in names:
            ignored[name] = ignored[name] & types if name in ignored else types
    return {name: frozenset(kind.encode() for kind in types) for name, types in ignored.items() if types}


class PaymentExpiry:
    """Finds unpaid orders past their deadline and asks the order processor to expire them.

    It keeps an index of the open deadlines, fed by every order state the order stage writes, so a tick
    costs the number of unpaid orders, not the size of the table. One full scan builds it after a
    (re)start.
    """

    def __init__(self, config: PipelineConfig, orders: TableStage) -> None:
        self.config = config
        self.orders = orders
        self.deadlines: dict[str, datetime] = {}
        self.announced: set[str] = set()
        self._scanned = False
        orders.on_saved = self.track

    def track(self, order_id: str, state: OrderState | None) -> None:
        if state is not None and is_payment_overdue(state, _END_OF_TIME) and state.payment_due_at is not None:
            self.deadlines[order_id] = state.payment_due_at
        else:
            self.deadlines.pop(order_id, None)

    def due_messages(self, now: datetime) -> list[Message]:
        if not self._scanned:
            self.orders.restore()
            for key, raw in list(self.orders.table.data.items()):
                self.track(key.decode(), self.orders.codec.loads(raw).state)
            self._scanned = True
        messages: list[Message] = []
        for order_id, due in list(self.deadlines.items()):
            if due > now or order_id in self.announced:
                continue
            state = self.orders.load(order_id).state
            if state is None or not is_payment_overdue(state, now):
                continue
            event: Event[OrderPaymentExpired] = payment_expired(state, now)
            messages.append((self.config.topic(topics.ORDERS), order_id.encode(), encode(event), event.type))
            self.announced.add(order_id)
        return messages


_END_OF_TIME = datetime.max.replace(tzinfo=UTC)
