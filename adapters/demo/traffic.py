"""A traffic simulator: a realistic mix of orders from several channels, payments, cancellations,
restocks with ETAs, deliveries and returns, published as events onto the topics."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from adapters.demo.catalog import CATALOG, CHANNELS, FIRST_NAMES, LANGUAGES, LAST_NAMES, Product
from events import (
    Customer,
    Event,
    EventData,
    OrderCancelRequested,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    ReturnReceived,
    ReturnRequested,
    ShipmentDelivered,
    StockIncomingScheduled,
    StockReceived,
    StockReorderPolicySet,
    new_event,
    utc_now,
)
from events.common import LineQty

Publish = Callable[[list[Event[EventData]]], Awaitable[None]]
SOURCE = "oms.demo"


@dataclass
class Mix:
    """Probabilities of what happens to an order after it is placed."""

    unpaid: float = 0.2  # placed with payment pending
    pays_later: float = 0.7  # of the unpaid, how many pay before the timeout
    cancels: float = 0.05
    returns: float = 0.08
    returns_resellable: float = 0.7


@dataclass
class Simulator:
    publish: Publish
    rate_per_s: float = 5.0
    mix: Mix = field(default_factory=Mix)
    seed: int | None = None
    opening_stock: bool = True  # False when carrying on from a restored log: the shelves are stocked
    counters: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(init=False)
    _sequence: int = field(default=0, init=False)
    _later: list[tuple[float, Event[EventData]]] = field(default_factory=list, init=False)
    _returns: dict[str, tuple[LineQty, ...]] = field(default_factory=dict, init=False)
    _on_order: set[str] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def opening_events(self) -> list[Event[EventData]]:
        events: list[Event[EventData]] = []
        for product in CATALOG:
            events.append(new_event(StockReceived(sku=product.sku, qty=product.opening_stock), source=SOURCE))
            policy = StockReorderPolicySet(
                sku=product.sku, reorder_point=product.reorder_point, reorder_qty=product.reorder_qty
            )
            events.append(new_event(policy, source=SOURCE))
        return events

    async def run(self, stop: asyncio.Event) -> None:
        if self.opening_stock:
            await self.publish(self.opening_events())
        tick = 0
        while not stop.is_set():
            batch = [self._order() for _ in range(self._orders_this_tick())]
            batch += self._due()
            if tick % 50 == 0:
                batch += self._restock()
            if batch:
                await self.publish(batch)
            tick += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.1)

    def _orders_this_tick(self) -> int:
        expected = self.rate_per_s / 10
        whole = int(expected)
        return whole + (1 if self._rng.random() < expected - whole else 0)

    def _order(self) -> Event[EventData]:
        self._sequence += 1
        channel = self._rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]
        products = self._rng.sample(CATALOG, k=self._rng.choice((1, 1, 1, 2, 2, 3)))
        pending = channel != "pos" and self._rng.random() < self.mix.unpaid
        first, last = self._rng.choice(FIRST_NAMES), self._rng.choice(LAST_NAMES)
        order_id = f"{channel[:3].upper()}-{self._rng.getrandbits(40):010x}"
        data = OrderPlaced(
            order_id=order_id,
            channel=channel,
            external_ref=f"#{1000 + self._sequence}",
            customer=Customer(
                email=f"{first}.{last}{self._rng.randint(1, 99)}@example.com".lower(),
                name=f"{first} {last}",
                language=self._rng.choice(LANGUAGES),
            ),
            lines=tuple(self._line(p) for p in products),
            currency="EUR",
            payment_status="pending" if pending else "paid",
            placed_at=utc_now(),
        )
        self.counters[f"orders:{channel}"] += 1
        self.counters["orders"] += 1
        self._schedule_follow_ups(data, pending)
        return new_event(data, source=f"{SOURCE}.{channel}")

    def _line(self, product: Product) -> OrderLine:
        return OrderLine(sku=product.sku, qty=self._rng.choice((1, 1, 1, 2, 3)), unit_price=product.price)

    def _schedule_follow_ups(self, order: OrderPlaced, pending: bool) -> None:
        now = asyncio.get_running_loop().time()
        if pending and self._rng.random() < self.mix.pays_later:
            paid = OrderPaid(order_id=order.order_id, amount=order.total(), method="card")
            self._later.append((now + self._rng.uniform(1, 8), new_event(paid, source=SOURCE)))
        if self._rng.random() < self.mix.cancels:
            cancel = OrderCancelRequested(order_id=order.order_id, reason="customer changed their mind")
            self._later.append((now + self._rng.uniform(0.5, 4), new_event(cancel, source=SOURCE)))
        elif self._rng.random() < self.mix.returns:
            line = order.lines[0]
            self._returns[order.order_id] = (LineQty(sku=line.sku, qty=line.qty),)

    def deliver(self, order_id: str, tracking_number: str) -> None:
        """Called when a shipment is dispatched: the carrier reports delivery a few seconds later."""
        now = asyncio.get_running_loop().time()
        delivered = ShipmentDelivered(order_id=order_id, tracking_number=tracking_number, delivered_at=utc_now())
        delivered_at = now + self._rng.uniform(3, 10)
        self._later.append((delivered_at, new_event(delivered, source="oms.demo.carrier")))
        returned = self._returns.pop(order_id, None)
        if returned:  # some customers send the goods back after delivery
            request = ReturnRequested(order_id=order_id, lines=returned, reason="did not fit the kitchen")
            received = ReturnReceived(
                order_id=order_id, lines=returned, resellable=self._rng.random() < self.mix.returns_resellable
            )
            self._later.append((delivered_at + 5, new_event(request, source=SOURCE)))
            self._later.append((delivered_at + 10, new_event(received, source=SOURCE)))

    def reorder(self, sku: str, qty: int) -> None:
        """Ops act on a low-stock alert: a purchase order with an ETA now, the goods a little later."""
        if qty <= 0 or sku in self._on_order:
            return
        self._on_order.add(sku)
        self._sequence += 1
        purchase_order = f"PO-{self._sequence:06d}"
        eta = utc_now() + timedelta(days=self._rng.randint(1, 5))
        now = asyncio.get_running_loop().time()
        scheduled = StockIncomingScheduled(sku=sku, qty=qty, eta=eta, purchase_order=purchase_order)
        received = StockReceived(sku=sku, qty=qty, purchase_order=purchase_order)
        self._later.append((now, new_event(scheduled, source=SOURCE)))
        self._later.append((now + self._rng.uniform(8, 20), new_event(received, source=SOURCE)))
        self.counters["purchase_orders"] += 1

    def _due(self) -> list[Event[EventData]]:
        loop_now = asyncio.get_running_loop().time()
        due = [event for at, event in self._later if at <= loop_now]
        self._later = [(at, event) for at, event in self._later if at > loop_now]
        for event in due:
            self.counters[event.type] += 1
            if event.type == "oms.stock.received":
                self._on_order.discard(event.subject)
        return due

    def _restock(self) -> list[Event[EventData]]:
        """Every few seconds a purchase order is announced for one product, and an earlier one arrives."""
        product = self._rng.choice(CATALOG)
        self._sequence += 1
        purchase_order = f"PO-{self._sequence:06d}"
        eta = utc_now() + timedelta(days=self._rng.randint(2, 10))
        scheduled = StockIncomingScheduled(
            sku=product.sku, qty=product.reorder_qty, eta=eta, purchase_order=purchase_order
        )
        received = StockReceived(sku=product.sku, qty=product.reorder_qty, purchase_order=purchase_order)
        now = asyncio.get_running_loop().time()
        self._later.append((now + self._rng.uniform(15, 40), new_event(received, source=SOURCE)))
        self.counters["purchase_orders"] += 1
        return [new_event(scheduled, source=SOURCE)]
