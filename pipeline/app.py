"""The faust application: topics, the stages' state and thin agents around the pure rules.

Built by `build_pipeline()`; nothing is created or connected at import time.
"""

from __future__ import annotations

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
from pipeline.ports import Carrier, ChangelogReader, LocalStateStore, Notifier, StateWrite
from pipeline.produce import Record, kafka_producer, send_records
from pipeline.rules.common import Decision
from pipeline.rules.inventory import SkuStock, decide_stock
from pipeline.rules.orders import OrderState, decide_order, is_payment_overdue, payment_expired
from pipeline.shell import Incoming, Intake, KeyedProcessor, Message, StateCodec, Stored
from pipeline.state import StageState, Written
from pipeline.transport import partition_finder

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
        "oms.order.request_refused",
        "oms.order.changed",
        "oms.order.handed_over",
        "oms.order.shipped",
        "oms.order.delivered",
        "oms.refund.issued",
        "oms.payment.recorded",
        "oms.payment.capture_requested",
        "oms.payment.void_requested",
        "oms.return.authorized",
        "oms.return.recorded",
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
    """One keyed processor and its state: run a batch, send, wait for acks, then persist."""

    def __init__(self, app: faust.App, state: StageState, processor_factory: Any, state_type: type[S]) -> None:
        self.app = app
        self.state = state
        self.codec = StateCodec(state_type)
        self.processor: KeyedProcessor[Any] = processor_factory(self.load, state.applied)
        self.on_saved: Callable[[str, int, Any], None] | None = None
        # Decoded states next to the state's bytes. An entry is used only while the state still holds the very
        # bytes object it was decoded from, so a restore after a rebalance can never be shadowed by a stale decode.
        self._decoded: OrderedDict[bytes, tuple[bytes, Stored[Any]]] = OrderedDict()

    def load(self, key: str, partition: int) -> Stored[Any]:
        key_bytes = key.encode()
        raw = self.state.get(partition, key_bytes)
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

    async def process(self, batch: Sequence[Any]) -> None:
        incoming = [_incoming(event.message) for event in batch]
        await self.state.restore({message.partition for message in incoming})
        result = await self.processor.run(incoming)
        await send_all(self.app, result.messages)
        changelog = self.state.changelog_topic
        records: list[Record] = []
        writes: dict[int, list[StateWrite]] = {}
        for key, (stored, partition) in result.states.items():
            if self.on_saved is not None:
                self.on_saved(key, partition, stored.state)
            raw = self.codec.dumps(stored)
            key_bytes = key.encode()
            records.append((changelog, partition, key_bytes, raw, None))
            writes.setdefault(partition, []).append(StateWrite(key_bytes, raw, stored.fresh_ids))
            self._remember(key_bytes, raw, Stored(stored.state, stored.offsets))
        # The inputs are acked (and later committed) only once their state is on the changelog, so a
        # rebalance that restores the state from the changelog never restores it to before a committed input.
        landed = await send_records(kafka_producer(self.app), records)
        await self.state.saved(writes, {p: _contiguous(p, landed.get((changelog, p), [])) for p in writes})


def _contiguous(partition: int, batches: list[tuple[int, int]]) -> Written | None:
    """Where a partition's records landed, if they landed one after another (no other writer in between)."""
    if not batches:
        return None
    first, count = batches[0]
    for offset, more in batches[1:]:
        if offset != first + count:
            return None
        count += more
    return Written(partition, first, count)


def _incoming(message: Any) -> Incoming:
    return Incoming(message.topic, message.partition, message.offset, message.key, message.value)


async def send_all(app: faust.App, messages: Sequence[Message]) -> None:
    """Send and wait until the broker has every one: state is only persisted after this."""
    await send_records(kafka_producer(app), ((topic, None, key, value, kind) for topic, key, value, kind in messages))


STAGE_TABLES = ("sku_to_stock", "order_to_state", "order_to_shipments", "order_to_notifications")
"""The state of each stage (inventory, orders, shipping, notify), by the name of its changelog."""


def build_pipeline(
    config: PipelineConfig,
    *,
    carrier: Carrier,
    notifier: Notifier,
    store: LocalStateStore,
    reader: ChangelogReader,
) -> faust.App:
    """The whole pipeline as one faust app; `oms worker` runs it, more workers share the partitions."""
    app = faust_app(config)

    def source(*names: str) -> Any:
        return app.topic(*names, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw")

    def state(table: str) -> StageState:
        topic = config.changelog_topic(table)
        return StageState(topic, topic, store, reader)  # its changelog names the state, in the local store too

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

    home = partition_finder(app)

    def processor(
        name: str, handle: Any, route: Any, ignored: frozenset[str], reads: dict[str, str], concurrent_keys: int = 1
    ) -> Any:
        keyed_by_order = frozenset({config.order_replies_topic}) & set(reads)
        intake = Intake(reads, keyed_by_order, home)
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
    shipment_reads = {config.topic(topics.SHIPMENTS): topics.SHIPMENTS}
    notification_reads = {config.topic(topics.NOTIFICATIONS): topics.NOTIFICATIONS}

    inventory = TableStage(
        app,
        state("sku_to_stock"),
        processor("inventory", handle_stock, route_inventory, INVENTORY_OUTPUTS, inventory_reads),
        SkuStock,
    )
    orders = TableStage(
        app,
        state("order_to_state"),
        processor("orders", handle_order, route_default, ORDER_OUTPUTS, order_reads),
        OrderState,
    )
    shipments = TableStage(
        app,
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
    notifications = TableStage(
        app,
        state("order_to_notifications"),
        processor(
            "notify", notify.handler(notifier), route_default, notify.IGNORED, notification_reads, config.io_concurrency
        ),
        notify.NotifyState,
    )
    stages = {
        inventory: inventory_reads,
        orders: order_reads,
        shipments: shipment_reads,
        notifications: notification_reads,
    }

    async def on_revoked(sender: Any, /, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        for stage in stages:
            stage.state.revoke()

    async def on_assigned(sender: Any, /, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        assigned = kwargs.get("assigned", args[0] if args else ())
        for stage, reads in stages.items():
            stage.state.assign({tp.partition for tp in assigned if tp.topic in reads})

    # faust's signals, sent once a rebalance has revoked (after in-flight batches finished) or assigned partitions
    app.on_partitions_revoked.connect(on_revoked)
    app.on_partitions_assigned.connect(on_assigned)

    app.passed_over = ignored_by_every_reader(
        [
            (tuple(inventory_reads), INVENTORY_OUTPUTS),
            (tuple(order_reads), ORDER_OUTPUTS),
            (tuple(shipment_reads), shipping.IGNORED),
            (tuple(notification_reads), notify.IGNORED),
        ]
    )
    batch, within = config.batch_size, config.batch_within_s

    async def drive(stage: TableStage, stream: Any) -> None:
        async for events in stream.take_events(batch, within):
            await stage.process(events)

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

    @app.timer(config.timer_interval_s, name="payment_timeout")
    async def payment_timeout() -> None:
        await send_all(app, await expiry.due_messages(utc_now()))

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
    costs the number of unpaid orders, not the number of orders. One scan of each partition's states builds it
    once the partition is restored.
    """

    def __init__(self, config: PipelineConfig, orders: TableStage) -> None:
        self.config = config
        self.orders = orders
        self.deadlines: dict[str, tuple[int, datetime]] = {}  # order id -> its partition and deadline
        self.announced: set[tuple[str, datetime]] = set()  # a changed order gets a new deadline, announced anew
        self._scanned: set[int] = set()
        orders.on_saved = self.track

    def track(self, order_id: str, partition: int, state: OrderState | None) -> None:
        if state is not None and is_payment_overdue(state, _END_OF_TIME) and state.payment_due_at is not None:
            self.deadlines[order_id] = (partition, state.payment_due_at)
        else:
            self.deadlines.pop(order_id, None)

    async def due_messages(self, now: datetime) -> list[Message]:
        state = self.orders.state
        await state.restore(state.owned)
        for partition in state.restored_partitions():
            if partition not in self._scanned:
                for key, raw in state.items(partition):
                    self.track(key.decode(), partition, self.orders.codec.loads(raw).state)
                self._scanned.add(partition)
        messages: list[Message] = []
        for order_id, (partition, due) in list(self.deadlines.items()):
            if due > now or (order_id, due) in self.announced or not state.is_restored(partition):
                continue
            order = self.orders.load(order_id, partition).state
            if order is None or not is_payment_overdue(order, now):
                continue
            event: Event[OrderPaymentExpired] = payment_expired(order, now)
            messages.append((self.config.topic(topics.ORDERS), order_id.encode(), encode(event), event.type))
            self.announced.add((order_id, due))
        return messages


_END_OF_TIME = datetime.max.replace(tzinfo=UTC)
