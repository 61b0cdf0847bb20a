"""The state of one order: its lines, parcels, payments and returns, and the questions it answers."""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal
from typing import Any, Literal

from pydantic import model_validator

from events import Address, BackorderedLine, OrderLine, OrderPaid, OrderPlaced
from events.base import UtcDatetime
from pipeline.rules.common import Rejected, RuleState
from pipeline.rules.ledger import Payment, Refund
from pipeline.rules.legacy_state import upgraded
from pipeline.rules.money import ZERO, pro_rata

SOURCE = "oms.pipeline.orders"
"""The order processor's `source` on every event it emits, the timer's included."""

OrderStatus = Literal[
    "placed",
    "awaiting_payment",
    "backordered",
    "confirmed",
    "shipment_requested",
    "partially_shipped",
    "shipped",
    "partially_delivered",
    "delivered",
    "completed",
    "return_requested",
    "partially_returned",
    "returned",
    "cancelled",
]
"""Where the order stands, derived from its lines and parcels after every decision (`order_status`).
`confirmed` is only found in states stored before the status was derived."""
LineStock = Literal["requested", "reserved", "backordered", "released", "committed"]
ID_MAX = 64


class Line(RuleState):
    """One line of the order as it is now. `qty` 0: the line was cancelled.

    `base_charge` is what `base_qty` units cost after their share of the order's discount; any other
    quantity costs the same per unit (rounded), so changing 3 -> 1 -> 3 costs what 3 did."""

    sku: str
    qty: int
    unit_price: Decimal
    base_qty: int
    base_charge: Decimal
    placed_at: UtcDatetime
    revision: int = 0
    stock: LineStock = "requested"
    eta: UtcDatetime | None = None
    shipment_id: str | None = None
    handed_over: bool = False
    returned: int = 0
    credited: int = 0

    @property
    def is_active(self) -> bool:
        return self.qty > 0

    @property
    def is_with_shipping(self) -> bool:
        """Handed to the warehouse (a shipment was requested) or over the counter: it can no longer change."""
        return self.shipment_id is not None or self.handed_over

    def charge(self, currency: str) -> Decimal:
        return pro_rata(self.base_charge, self.qty, self.base_qty, currency)

    def credit(self, currency: str) -> Decimal:
        """What the customer paid for the units that came back and were inspected."""
        if not self.credited:
            return ZERO
        return pro_rata(self.charge(currency), self.credited, self.qty, currency)


class Shipment(RuleState):
    """A parcel the order asked for; `tracking_number` is set once it was dispatched."""

    shipment_id: str
    skus: tuple[str, ...]
    tracking_number: str | None = None
    delivered: bool = False

    @property
    def dispatched(self) -> bool:
        return self.tracking_number is not None


class ReturnCase(RuleState):
    """A return authorization: what may come back (`lines`), what came (`received`), what was inspected."""

    rma: str
    reason: str
    lines: dict[str, int]
    received: dict[str, int] = {}
    inspected: dict[str, int] = {}
    replacements: tuple[OrderLine, ...] = ()
    replaced: bool = False

    def still_expected(self, sku: str) -> int:
        return self.lines.get(sku, 0) - self.received.get(sku, 0)

    def uninspected(self, sku: str) -> int:
        return self.received.get(sku, 0) - self.inspected.get(sku, 0)

    @property
    def is_open(self) -> bool:
        return any(self.still_expected(sku) > 0 for sku in self.lines)


class HeldPayment(RuleState):
    """A payment that came before its order, waiting for it."""

    event_id: str
    payment: OrderPaid


class OrderState(RuleState):
    """One order id's state. `order` is None while only payments have come (they wait in `held`).

    `payment_due_at` is this key's timer deadline: the payment deadline of an order that waits for money,
    or, while payments wait for their order, when they are refunded (`next_deadline` says which is open).
    States stored before the money ledger load through `legacy_state.upgraded`.
    """

    order: OrderPlaced | None = None
    placed_event_id: uuid.UUID | None = None
    correlation_id: str = ""
    status: OrderStatus = "placed"
    paid: bool = False
    """Kept in step with `is_covered` for readers of stored states."""
    payment_due_at: UtcDatetime | None = None
    deadline_met: bool = False
    deadlines: int = 0
    lines: tuple[Line, ...] = ()
    shipping_address: Address | None = None
    announced_backorder: tuple[BackorderedLine, ...] = ()
    announced_due: Decimal | None = None
    shipments: tuple[Shipment, ...] = ()
    payments: tuple[Payment, ...] = ()
    refunds: tuple[Refund, ...] = ()
    held: tuple[HeldPayment, ...] = ()
    early: tuple[str, ...] = ()
    """The pipeline's own events for this order that came before its placement (encoded): on a replay after a
    crash, a stock answer or a dispatch can be read before the placement that caused it. They are applied
    right after the placement, as if they had come after it."""
    returns: tuple[ReturnCase, ...] = ()
    cancel_reason: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _upgrade_stored(cls, data: Any) -> Any:
        return upgraded(data)

    @property
    def placed(self) -> OrderPlaced:
        if self.order is None:
            raise Rejected(f"order {self.order_id} was never placed")
        return self.order

    @property
    def order_id(self) -> str:
        if self.order is not None:
            return self.order.order_id
        return self.held[0].payment.order_id if self.held else "?"

    @property
    def currency(self) -> str:
        return self.placed.currency

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def is_split(self) -> bool:
        return self.placed.shipping_policy == "split"

    @property
    def is_till_sale(self) -> bool:
        return self.placed.fulfilment == "handed_over"

    def active_lines(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.is_active)

    def find_line(self, sku: str) -> Line | None:
        return next((line for line in self.lines if line.sku == sku), None)

    def line(self, sku: str) -> Line:
        """The line of `sku`; a stock answer or parcel for a sku the order does not have makes no sense."""
        found = self.find_line(sku)
        if found is None:
            raise Rejected(f"order {self.order_id} has no line for sku {sku}")
        return found

    def with_line(self, line: Line) -> OrderState:
        if self.find_line(line.sku) is None:
            return self.model_copy(update={"lines": (*self.lines, line)})
        return self.model_copy(
            update={"lines": tuple(line if known.sku == line.sku else known for known in self.lines)}
        )

    def has_shipping(self) -> bool:
        """True once any line was handed to shipping or over the counter."""
        return any(line.is_with_shipping for line in self.lines)

    def dispatched_skus(self) -> set[str]:
        return {sku for shipment in self.shipments if shipment.dispatched for sku in shipment.skus}

    def left_with_customer(self, line: Line) -> int:
        """Units the customer has (or is getting): dispatched or handed over, less what came back."""
        out = line.qty if line.handed_over or line.sku in self.dispatched_skus() else 0
        return out - line.returned

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

    def return_case(self, rma: str) -> ReturnCase | None:
        return next((case for case in self.returns if case.rma == rma), None)

    def with_return(self, case: ReturnCase) -> OrderState:
        if self.return_case(case.rma) is None:
            return self.model_copy(update={"returns": (*self.returns, case)})
        return self.model_copy(update={"returns": tuple(case if c.rma == case.rma else c for c in self.returns)})

    def charge(self) -> Decimal:
        """What the order costs the customer now: its lines (after their discount share), less what came
        back and was inspected, plus shipping while anything is still on the order. Shipping is not
        given back for returns; a cancelled order (never shipped) costs nothing."""
        if self.is_cancelled:
            return ZERO
        lines = sum((line.charge(self.currency) - line.credit(self.currency) for line in self.lines), ZERO)
        shipping = self.placed.shipping_charge if self.active_lines() else ZERO
        return lines + shipping


def numbered_id(order_id: str, letter: str, number: int) -> str:
    """`<order id>-<letter><n>`; a long order id is shortened with a digest so the id stays within 64."""
    suffix = f"-{letter}{number}"
    if len(order_id) + len(suffix) <= ID_MAX:
        return f"{order_id}{suffix}"
    digest = hashlib.sha256(order_id.encode()).hexdigest()[:10]
    keep = ID_MAX - len(suffix) - len(digest) - 1
    return f"{order_id[:keep]}~{digest}{suffix}"


def shipment_id_for(order_id: str, number: int) -> str:
    return numbered_id(order_id, "S", number)


def rma_for(order_id: str, number: int) -> str:
    """The return authorization number: `<order id>-R<n>`, the same however often the request comes."""
    return numbered_id(order_id, "R", number)
