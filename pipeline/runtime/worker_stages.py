"""The worker's four stages (inventory, orders, shipping, notify): what each reads, where its outputs go, the rule
or handler it runs and the state it keeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

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
)
from pipeline.config import PipelineConfig
from pipeline.ports import Carrier, ChangelogReader, LocalStateStore, Notifier
from pipeline.rules.common import Decision
from pipeline.rules.inventory import SkuStock, decide_stock
from pipeline.rules.orders import OrderState, decide_order
from pipeline.runtime.faust_internals import App
from pipeline.runtime.produce import KeyHomes
from pipeline.runtime.stage_runner import ProcessorFactory, StageRunner
from pipeline.stages import notify, shipping
from pipeline.stages.intake import Intake
from pipeline.stages.processor import Handler, KeyedProcessor, Route
from pipeline.stages.state import StageState

S = TypeVar("S", bound=BaseModel)


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


@dataclass(frozen=True)
class Routes:
    """Where the stages' outputs go: each event to its own topic, some also to an internal topic."""

    config: PipelineConfig

    def default(self, event: Event[EventData]) -> list[tuple[str, str]]:
        return [(self.config.topic(event.topic), event.subject)]

    def orders(self, event: Event[EventData]) -> list[tuple[str, str]]:
        routes = self.default(event)
        if event.type == ShipmentRequested.event_type:
            routes.append((self.config.shipment_requests_topic, event.subject))
        return routes

    def inventory(self, event: Event[EventData]) -> list[tuple[str, str]]:
        routes = self.default(event)
        if event.type in REPLY_TYPES:
            routes.append((self.config.order_replies_topic, str(event.data.order_id)))  # type: ignore[attr-defined]
        return routes


@dataclass(frozen=True)
class Reads:
    """Per stage, the topics it reads: input topic name -> the contract topic of the events it carries."""

    inventory: dict[str, str]
    orders: dict[str, str]
    shipments: dict[str, str]
    notifications: dict[str, str]


def reads_of(config: PipelineConfig) -> Reads:
    return Reads(
        inventory={config.topic(topics.INVENTORY): topics.INVENTORY},
        # One agent owns the order state: it reads everything keyed by order id, so nothing races.
        orders={
            config.topic(topics.ORDERS): topics.ORDERS,
            config.topic(topics.SHIPMENTS): topics.SHIPMENTS,
            config.order_replies_topic: topics.INVENTORY,
        },
        shipments={config.shipment_requests_topic: topics.SHIPMENTS},  # each topic has one reading stage
        notifications={config.topic(topics.NOTIFICATIONS): topics.NOTIFICATIONS},
    )


@dataclass(frozen=True)
class Stages:
    inventory: StageRunner[SkuStock]
    orders: StageRunner[OrderState]
    shipments: StageRunner[shipping.ShippingState]
    notifications: StageRunner[notify.NotifyState]
    reads: Reads

    def with_reads(self) -> dict[StageRunner[Any], dict[str, str]]:
        """Each stage with the topics it reads."""
        return {
            self.inventory: self.reads.inventory,
            self.orders: self.reads.orders,
            self.shipments: self.reads.shipments,
            self.notifications: self.reads.notifications,
        }


async def handle_stock(state: SkuStock | None, event: Event[EventData], now: datetime) -> Decision[SkuStock]:
    return decide_stock(state, event, now)


def order_handler(config: PipelineConfig) -> Handler[OrderState]:
    async def handle_order(state: OrderState | None, event: Event[EventData], now: datetime) -> Decision[OrderState]:
        return decide_order(
            state, event, now, payment_timeout=config.payment_timeout, split_shipments=config.split_shipments
        )

    return handle_order


def processor_factory(
    config: PipelineConfig,
    homes: KeyHomes,
    name: str,
    handle: Any,
    route: Route,
    ignored: frozenset[str],
    reads: dict[str, str],
    concurrent_keys: int = 1,
) -> ProcessorFactory:
    """A stage's keyed processor, made by its runner once it has the state to load from."""
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


def build_stages(
    app: App,
    config: PipelineConfig,
    homes: KeyHomes,
    *,
    carrier: Carrier,
    notifier: Notifier,
    store: LocalStateStore,
    reader: ChangelogReader,
) -> Stages:
    """The four stages, each with its rule or handler, its intake and its state."""
    routes, reads, io = Routes(config), reads_of(config), config.io_concurrency

    def stage(table: str, state_type: type[S], processor: ProcessorFactory) -> StageRunner[S]:
        topic = config.changelog_topic(table)
        state = StageState(topic, topic, store, reader)  # its changelog names the state, in the local store too
        return StageRunner(app, homes, state, processor, state_type)

    def processor(
        name: str, handle: Any, route: Route, ignored: frozenset[str], reads_from: dict[str, str], concurrent: int = 1
    ) -> ProcessorFactory:
        return processor_factory(config, homes, name, handle, route, ignored, reads_from, concurrent)

    ship = shipping.handler(carrier, attempts=config.carrier_attempts, backoff_s=config.carrier_backoff_s)
    return Stages(
        inventory=stage(
            "sku_to_stock",
            SkuStock,
            processor("inventory", handle_stock, routes.inventory, INVENTORY_OUTPUTS, reads.inventory),
        ),
        orders=stage(
            "order_to_state",
            OrderState,
            processor("orders", order_handler(config), routes.orders, ORDER_OUTPUTS, reads.orders),
        ),
        shipments=stage(
            "order_to_shipments",
            shipping.ShippingState,
            processor("shipping", ship, routes.default, shipping.IGNORED, reads.shipments, io),
        ),
        notifications=stage(
            "order_to_notifications",
            notify.NotifyState,
            processor("notify", notify.handler(notifier), routes.default, notify.IGNORED, reads.notifications, io),
        ),
        reads=reads,
    )
