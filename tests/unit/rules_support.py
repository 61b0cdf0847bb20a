"""Given / when / then for the pure rules, and small builders of the events they read.

flow = Flow(decide_stock).given(received("MUG", 5))
assert flow.when(requested("MUG", "o-1", 2)) == [StockReserved(sku="MUG", order_id="o-1", qty=2)]
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from events import (
    Address,
    Customer,
    Event,
    EventData,
    LineChange,
    LineQty,
    OrderCancelRequested,
    OrderChangeRequested,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    OrderRequestRefused,
    ReturnInspected,
    ReturnReceived,
    ReturnRequested,
    ShipmentDelivered,
    ShipmentDispatched,
    StockAdjusted,
    StockCommitRequested,
    StockIncomingScheduled,
    StockReceived,
    StockReleaseRequested,
    StockReorderPolicySet,
    StockReservationFailed,
    StockReservationRequested,
    StockReserved,
    StockReturned,
    new_event,
)
from pipeline.rules.common import Decision

S = TypeVar("S")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: float = 0, *, days: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, days=days)


def event(data: EventData, *, time: datetime = T0) -> Event[EventData]:
    return new_event(data, source="tests", time=time, id=uuid.uuid4())


class Flow(Generic[S]):
    """Folds `given` events through a decide function; `when` returns the data it emitted."""

    def __init__(self, decide: Callable[[S | None, Event[EventData], datetime], Decision[S]], now: datetime = T0):
        self.decide = decide
        self.now = now
        self.state: S | None = None
        self.last: Decision[S] | None = None

    def given(self, *events: Event[Any]) -> Flow[S]:
        for past in events:
            self.state = self.decide(self.state, past, self.now).state
        return self

    def when(self, happening: Event[Any]) -> list[EventData]:
        self.last = self.decide(self.state, happening, self.now)
        self.state = self.last.state
        return [emitted.data for emitted in self.last.emitted]

    def last_outputs(self) -> list[EventData]:
        return [emitted.data for emitted in self.last.emitted] if self.last else []


def of_type(outputs: list[EventData], kind: type[Any]) -> list[Any]:
    return [data for data in outputs if isinstance(data, kind)]


# --- inventory inputs ------------------------------------------------------------------------


def received(sku: str, qty: int, purchase_order: str | None = None) -> Event[EventData]:
    return event(StockReceived(sku=sku, qty=qty, purchase_order=purchase_order))


def incoming(sku: str, qty: int, purchase_order: str, eta: datetime) -> Event[EventData]:
    return event(StockIncomingScheduled(sku=sku, qty=qty, purchase_order=purchase_order, eta=eta))


def adjusted(sku: str, delta: int, reason: str = "stock count") -> Event[EventData]:
    return event(StockAdjusted(sku=sku, delta=delta, reason=reason))


def requested(sku: str, order_id: str, qty: int, placed_at: datetime = T0, *, revision: int = 0) -> Event[EventData]:
    return event(StockReservationRequested(sku=sku, order_id=order_id, qty=qty, placed_at=placed_at, revision=revision))


def release(sku: str, order_id: str, reason: str = "customer asked") -> Event[EventData]:
    return event(StockReleaseRequested(sku=sku, order_id=order_id, reason=reason))


def commit(sku: str, order_id: str, qty: int) -> Event[EventData]:
    return event(StockCommitRequested(sku=sku, order_id=order_id, qty=qty))


def returned(sku: str, order_id: str, qty: int) -> Event[EventData]:
    return event(StockReturned(sku=sku, order_id=order_id, qty=qty))


def policy(sku: str, reorder_point: int, reorder_qty: int) -> Event[EventData]:
    return event(StockReorderPolicySet(sku=sku, reorder_point=reorder_point, reorder_qty=reorder_qty))


# --- order inputs ----------------------------------------------------------------------------

ADDRESS = Address(
    name="Ada Lovelace", line1="12 St James's Square", city="London", postal_code="SW1Y 4JH", country="GB"
)


def placed(
    order_id: str,
    lines: dict[str, int],
    *,
    paid: bool = True,
    price: str = "10.00",
    prices: dict[str, str] | None = None,
    split: bool = False,
    language: str | None = "en",
    time: datetime = T0,
    **options: Any,
) -> Event[EventData]:
    """A web order by Ada; `options` set any other OrderPlaced field (channel, capture, discount, ...)."""
    priced = prices or {}
    fields: dict[str, Any] = {
        "order_id": order_id,
        "channel": "web",
        "customer": Customer(email="ada@example.com", name="Ada", language=language),
        "lines": tuple(
            OrderLine(sku=sku, qty=qty, unit_price=Decimal(priced.get(sku, price))) for sku, qty in lines.items()
        ),
        "currency": "EUR",
        "payment_status": "paid" if paid else "pending",
        "shipping_address": ADDRESS,
        "shipping_policy": "split" if split else "complete",
        "placed_at": time,
    }
    return event(OrderPlaced(**(fields | options)), time=time)


def paid(
    order_id: str,
    amount: str = "10.00",
    *,
    payment_id: str | None = None,
    kind: str = "captured",
    currency: str | None = None,
    time: datetime = T0,
) -> Event[EventData]:
    data = OrderPaid.model_validate(
        {
            "order_id": order_id,
            "amount": Decimal(amount),
            "method": "card",
            "payment_id": payment_id,
            "kind": kind,
            "currency": currency,
        }
    )
    return event(data, time=time)


def reserved(order_id: str, sku: str, qty: int, *, from_backorder: bool = False, revision: int = 0) -> Event[EventData]:
    return event(StockReserved(sku=sku, order_id=order_id, qty=qty, from_backorder=from_backorder, revision=revision))


def failed(order_id: str, sku: str, qty: int, eta: datetime | None = None, *, revision: int = 0) -> Event[EventData]:
    data = StockReservationFailed(
        sku=sku, order_id=order_id, qty=qty, reason="insufficient stock", eta=eta, revision=revision
    )
    return event(data)


def change_requested(
    order_id: str,
    lines: dict[str, int],
    *,
    prices: dict[str, str] | None = None,
    address: Address | None = None,
    reason: str = "customer asked",
) -> Event[EventData]:
    changes = tuple(
        LineChange(sku=sku, qty=qty, unit_price=Decimal(prices[sku]) if prices and sku in prices else None)
        for sku, qty in lines.items()
    )
    return event(OrderChangeRequested(order_id=order_id, lines=changes, shipping_address=address, reason=reason))


def cancel_requested(order_id: str, reason: str = "customer changed mind") -> Event[EventData]:
    return event(OrderCancelRequested(order_id=order_id, reason=reason))


def dispatched(
    order_id: str, shipment_id: str, lines: dict[str, int], tracking: str = "1Z999AA10123456784"
) -> Event[EventData]:
    data = ShipmentDispatched(
        order_id=order_id,
        shipment_id=shipment_id,
        carrier="ups",
        tracking_number=tracking,
        tracking_url=f"https://www.ups.com/track?tracknum={tracking}",
        lines=tuple(LineQty(sku=sku, qty=qty) for sku, qty in lines.items()),
    )
    return event(data)


def delivered(order_id: str, tracking: str = "1Z999AA10123456784", when: datetime = T0) -> Event[EventData]:
    return event(ShipmentDelivered(order_id=order_id, tracking_number=tracking, delivered_at=when))


def line_qtys(lines: dict[str, int]) -> tuple[LineQty, ...]:
    return tuple(LineQty(sku=sku, qty=qty) for sku, qty in lines.items())


def return_requested(
    order_id: str,
    lines: dict[str, int],
    reason: str = "too small",
    *,
    replacements: dict[str, tuple[int, str]] | None = None,
) -> Event[EventData]:
    instead = tuple(
        OrderLine(sku=sku, qty=qty, unit_price=Decimal(price)) for sku, (qty, price) in (replacements or {}).items()
    )
    return event(ReturnRequested(order_id=order_id, lines=line_qtys(lines), reason=reason, replacements=instead))


def return_received(
    order_id: str, lines: dict[str, int], *, resellable: bool | None = True, rma: str | None = None
) -> Event[EventData]:
    return event(ReturnReceived(order_id=order_id, lines=line_qtys(lines), resellable=resellable, rma=rma))


def return_inspected(
    order_id: str, rma: str, *, resellable: dict[str, int] | None = None, unsellable: dict[str, int] | None = None
) -> Event[EventData]:
    data = ReturnInspected(
        order_id=order_id, rma=rma, resellable=line_qtys(resellable or {}), unsellable=line_qtys(unsellable or {})
    )
    return event(data)


def refusals(outputs: list[EventData]) -> list[tuple[str, str]]:
    """The (code, reason) of every refusal among `outputs`."""
    return [(data.code, data.reason) for data in outputs if isinstance(data, OrderRequestRefused)]
