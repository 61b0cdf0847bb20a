"""The state of one order, the questions it answers, and the customer notices built from it."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Literal

from events import BackorderedLine, NotificationRequested, OrderLine, OrderPlaced
from events.base import UtcDatetime
from events.notifications import NotificationKind
from pipeline.rules.common import Rejected, RuleState

OrderStatus = Literal[
    "placed",
    "awaiting_payment",
    "backordered",
    "confirmed",
    "shipment_requested",
    "shipped",
    "delivered",
    "return_requested",
    "returned",
    "cancelled",
]
"""Where the order stands. `confirmed` is passed through within one decision: the confirmation and the
first shipment request are emitted together, so the state itself rests at `shipment_requested`."""

AFTER_SHIPMENT: frozenset[OrderStatus] = frozenset({"shipped", "delivered", "return_requested", "returned"})
SHIPMENT_ID_MAX = 64


class Shipment(RuleState):
    """A shipment the order asked for; `tracking_number` is set once it was dispatched."""

    shipment_id: str
    skus: tuple[str, ...]
    tracking_number: str | None = None
    delivered: bool = False

    @property
    def dispatched(self) -> bool:
        return self.tracking_number is not None


class OrderState(RuleState):
    order: OrderPlaced
    placed_event_id: uuid.UUID
    correlation_id: str
    status: OrderStatus
    paid: bool
    payment_due_at: UtcDatetime | None = None
    reserved: tuple[str, ...] = ()
    backordered: dict[str, UtcDatetime | None] = {}
    announced_backorder: tuple[BackorderedLine, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    returned: dict[str, int] = {}
    return_reason: str | None = None
    cancel_reason: str | None = None

    @property
    def order_id(self) -> str:
        return self.order.order_id

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def has_shipped(self) -> bool:
        return self.status in AFTER_SHIPMENT

    @property
    def is_split(self) -> bool:
        return self.order.shipping_policy == "split"

    def line(self, sku: str) -> OrderLine:
        found = next((line for line in self.order.lines if line.sku == sku), None)
        if found is None:
            raise Rejected(f"order {self.order_id} has no line for sku {sku}")
        return found

    def requested_skus(self) -> set[str]:
        return {sku for shipment in self.shipments for sku in shipment.skus}

    def dispatched_skus(self) -> set[str]:
        return {sku for shipment in self.shipments if shipment.dispatched for sku in shipment.skus}

    def is_fully_dispatched(self) -> bool:
        return self.dispatched_skus() >= {line.sku for line in self.order.lines}

    def shipment(self, shipment_id: str) -> Shipment | None:
        return next((shipment for shipment in self.shipments if shipment.shipment_id == shipment_id), None)

    def shipment_tracked_as(self, tracking_number: str) -> Shipment | None:
        return next((shipment for shipment in self.shipments if shipment.tracking_number == tracking_number), None)

    def with_shipment(self, shipment: Shipment) -> OrderState:
        """The state with `shipment` replacing the one with its id, or added last."""
        if self.shipment(shipment.shipment_id) is None:
            return self.model_copy(update={"shipments": (*self.shipments, shipment)})
        shipments = tuple(shipment if known.shipment_id == shipment.shipment_id else known for known in self.shipments)
        return self.model_copy(update={"shipments": shipments})


def settled_status(state: OrderState) -> OrderStatus:
    """The status before shipment follows from the facts; from shipment on, events set it explicitly."""
    if state.is_cancelled or state.has_shipped:
        return state.status
    if state.shipments:
        return "shipment_requested"
    if state.backordered:
        return "backordered"
    return "placed" if state.paid else "awaiting_payment"


def with_settled_status(state: OrderState) -> OrderState:
    return state.model_copy(update={"status": settled_status(state)})


def shipment_id_for(order_id: str, number: int) -> str:
    """`<order id>-S<n>`; a long order id is shortened with a digest so the id stays within the contract's 64."""
    suffix = f"-S{number}"
    if len(order_id) + len(suffix) <= SHIPMENT_ID_MAX:
        return f"{order_id}{suffix}"
    digest = hashlib.sha256(order_id.encode()).hexdigest()[:10]
    keep = SHIPMENT_ID_MAX - len(suffix) - len(digest) - 1
    return f"{order_id[:keep]}~{digest}{suffix}"


def notice(state: OrderState, kind: NotificationKind, **params: str) -> NotificationRequested:
    """A customer message about this order; every param is a string (dates ISO, amounts as decimals)."""
    customer = state.order.customer
    named = {"name": customer.name} if customer.name else {}
    return NotificationRequested(
        order_id=state.order_id,
        kind=kind,
        recipient=customer.email,
        recipient_name=customer.name,
        language=customer.language,
        params={"order_id": state.order_id, **named, **params},
    )


def iso_date(moment: datetime) -> str:
    return moment.date().isoformat()
