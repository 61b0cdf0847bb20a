"""A deterministic synthetic history, shaped like what the pipeline emits, for tests, demos and benchmarks.

Orders are placed on several channels (walk-ins at the till without an email); some are changed before they
are paid, paid (the processor records the payment), timed out and now and then paid too late (and refunded);
stock is reserved or backordered, restocked; orders are shipped in one or two parcels, delivered, handed over
at the till, cancelled (refunded) and returned (refunded per payment); some requests are refused, as the
order processor refuses them. A share of events is delivered twice (same id), as the at-least-once pipeline
does. The stock model keeps reserved <= on hand, like the inventory processor.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from adapters.bench.history_money import maybe_change, pay, refund, refusal, total_of
from events import (
    Customer,
    Event,
    EventData,
    LineQty,
    NotificationSent,
    OrderBackordered,
    OrderCancelled,
    OrderCancelRequested,
    OrderConfirmed,
    OrderDelivered,
    OrderHandedOver,
    OrderLine,
    OrderPlaced,
    OrderShipped,
    ReturnAuthorized,
    ReturnReceived,
    ReturnRecorded,
    ReturnRequested,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentRequested,
    StockCommitted,
    StockIncomingScheduled,
    StockLow,
    StockReceived,
    StockReleased,
    StockReorderPolicySet,
    StockReservationFailed,
    StockReserved,
    StockReturned,
    natural_id,
)
from events.envelope import new_event
from events.orders import BackorderedLine

SOURCE = "oms/simulate"
CHANNELS = ("web", "marketplace", "pos", "phone")
LANGUAGES = ("en", "de", "fr")
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@dataclass
class _Stock:
    on_hand: int = 0
    reserved: int = 0
    backorders: dict[str, int] = field(default_factory=dict)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass
class Simulation:
    """Call `events()` once; `seed` makes it reproducible."""

    orders: int = 100
    skus: int = 12
    seed: int = 7
    duplicate_share: float = 0.03
    run: str = "sim"
    start: datetime = START
    _clock: datetime = field(init=False)
    _rng: random.Random = field(init=False)
    _stock: dict[str, _Stock] = field(init=False, default_factory=dict)
    _counter: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._clock = self.start
        self._rng = random.Random(self.seed)

    def _event(self, data: EventData) -> Event[EventData]:
        self._counter += 1
        self._clock += timedelta(seconds=self._rng.randint(1, 90))
        event_id = natural_id(self.run, str(self._counter))
        return new_event(data, source=SOURCE, id=event_id, time=self._clock)

    def events(self) -> Iterator[Event[EventData]]:
        for event in self._story():
            yield event
            if self._rng.random() < self.duplicate_share:
                yield event  # a redelivery: same id, same content

    def _story(self) -> Iterator[Event[EventData]]:
        skus = [f"{self.run.upper()}-SKU-{n:03d}" for n in range(self.skus)]
        for sku in skus:
            self._stock[sku] = _Stock()
            yield self._event(StockReorderPolicySet(sku=sku, reorder_point=5, reorder_qty=20))
            yield from self._receive(sku, self._rng.randint(0, 40))
        for number in range(self.orders):
            yield from self._order(f"{self.run}-{number:06d}", skus)
            if number % 6 == 5:
                sku = self._rng.choice(skus)
                po = f"PO-{self.run}-{number}"
                eta = self._clock + timedelta(days=3)
                yield self._event(StockIncomingScheduled(sku=sku, qty=40, eta=eta, purchase_order=po))
                yield from self._receive(sku, 40, po)

    def _receive(self, sku: str, qty: int, purchase_order: str | None = None) -> Iterator[Event[EventData]]:
        if qty <= 0:
            return
        yield self._event(StockReceived(sku=sku, qty=qty, purchase_order=purchase_order))
        self._stock[sku].on_hand += qty

    def _order(self, order_id: str, skus: list[str]) -> Iterator[Event[EventData]]:
        rng = self._rng
        chosen = rng.sample(skus, rng.randint(1, 3))
        lines = tuple(
            OrderLine(sku=s, qty=rng.randint(1, 3), unit_price=Decimal(rng.randint(199, 9999)) / 100) for s in chosen
        )
        channel = rng.choice(CHANNELS)
        walk_in = channel == "pos" and rng.random() < 0.5
        email = None if walk_in else f"c{rng.randint(1, max(2, self.orders // 3))}@example.com"
        customer = Customer(email=email, name=None if walk_in else "Sim Customer", language=rng.choice(LANGUAGES))
        paid = rng.random() < 0.8 or walk_in
        placed = OrderPlaced(
            order_id=order_id,
            channel=channel,
            external_ref=f"ext-{order_id}",
            customer=customer,
            lines=lines,
            currency="EUR",
            payment_status="paid" if paid else "pending",
            shipping_policy="split" if len(lines) > 1 and rng.random() < 0.3 else "complete",
            placed_at=self._clock,
        )
        yield self._event(placed)
        payment = f"{order_id}:placement"
        if not paid:
            lines = yield from maybe_change(self._event, self._rng, order_id, lines)
            paid_with = yield from pay(self._event, self._rng, placed, lines, self._clock + timedelta(hours=1))
            if paid_with is None:
                return
            payment = paid_with
        waiting = yield from self._reserve(order_id, lines)
        if waiting:
            yield self._event(
                OrderBackordered(order_id=order_id, lines=tuple(BackorderedLine(sku=s, qty=q) for s, q in waiting))
            )
            yield self._event(OrderCancelRequested(order_id=order_id, reason="customer asked"))
            yield self._event(OrderCancelled(order_id=order_id, reason="customer asked"))
            yield from self._release(order_id, lines)
            yield refund(
                self._event, order_id, payment, total_of(lines), "cancellation", "order cancelled: customer asked"
            )
            return
        yield self._event(OrderConfirmed(order_id=order_id, skus=tuple(line.sku for line in lines)))
        if placed.fulfilment == "handed_over":
            yield from self._hand_over(order_id, lines)
            return
        if rng.random() < 0.1:  # too late: the order was handed to shipping
            asked = self._event(OrderCancelRequested(order_id=order_id, reason="changed my mind"))
            yield asked
            yield refusal(self._event, order_id, asked, "too_late_to_cancel", "already handed to shipping")
        parcels = [lines[:1], lines[1:]] if placed.shipping_policy == "split" else [lines]
        for number, parcel in enumerate(parcels, start=1):
            yield from self._ship(order_id, f"{order_id}-S{number}", parcel, complete=number == len(parcels))
        if rng.random() < 0.2:
            yield from self._return(order_id, lines, payment)

    def _reserve(
        self, order_id: str, lines: tuple[OrderLine, ...]
    ) -> Generator[Event[EventData], None, list[tuple[str, int]]]:
        waiting: list[tuple[str, int]] = []
        for line in lines:
            stock = self._stock[line.sku]
            if stock.available >= line.qty:
                stock.reserved += line.qty
                yield self._event(StockReserved(sku=line.sku, order_id=order_id, qty=line.qty))
            else:
                stock.backorders[order_id] = line.qty
                waiting.append((line.sku, line.qty))
                data = StockReservationFailed(sku=line.sku, order_id=order_id, qty=line.qty, reason="out of stock")
                yield self._event(data)
                if stock.available < 5:
                    yield self._event(
                        StockLow(
                            sku=line.sku,
                            available=stock.available,
                            reorder_point=5,
                            incoming=0,
                            backordered=sum(stock.backorders.values()),
                            suggested_reorder_qty=20,
                        )
                    )
        return waiting

    def _release(self, order_id: str, lines: tuple[OrderLine, ...]) -> Iterator[Event[EventData]]:
        for line in lines:
            stock = self._stock[line.sku]
            was_reserved = order_id not in stock.backorders
            if was_reserved:
                stock.reserved -= line.qty
            stock.backorders.pop(order_id, None)
            yield self._event(
                StockReleased(
                    sku=line.sku, order_id=order_id, qty=line.qty, reason="cancelled", was_reserved=was_reserved
                )
            )

    def _ship(
        self, order_id: str, shipment_id: str, lines: tuple[OrderLine, ...], *, complete: bool
    ) -> Iterator[Event[EventData]]:
        shipped = tuple(LineQty(sku=line.sku, qty=line.qty) for line in lines)
        yield self._event(ShipmentRequested(order_id=order_id, shipment_id=shipment_id, lines=shipped))
        yield from self._commit(order_id, lines)
        tracking = f"SIM{self._counter:09d}"
        booked = {
            "carrier": "simship",
            "tracking_number": tracking,
            "tracking_url": f"https://track.example.com/{tracking}",
        }
        yield self._event(ShipmentDispatched(order_id=order_id, shipment_id=shipment_id, lines=shipped, **booked))
        yield self._event(OrderShipped(order_id=order_id, shipment_id=shipment_id, complete=complete, **booked))
        yield self._event(
            NotificationSent(
                order_id=order_id,
                request_id=f"{shipment_id}-n",
                kind="shipped",
                notifier="outbox",
                language="en",
                subject="Your order has shipped",
            )
        )
        if self._rng.random() < 0.85:
            when = self._clock + timedelta(hours=30)
            yield self._event(ShipmentDelivered(order_id=order_id, tracking_number=tracking, delivered_at=when))
            yield self._event(
                OrderDelivered(
                    order_id=order_id,
                    delivered_at=when,
                    shipment_id=shipment_id,
                    tracking_number=tracking,
                    complete=complete,
                )
            )

    def _commit(self, order_id: str, lines: tuple[OrderLine, ...]) -> Iterator[Event[EventData]]:
        for line in lines:
            stock = self._stock[line.sku]
            stock.reserved -= line.qty
            stock.on_hand -= line.qty
            yield self._event(StockCommitted(sku=line.sku, order_id=order_id, qty=line.qty))

    def _hand_over(self, order_id: str, lines: tuple[OrderLine, ...]) -> Iterator[Event[EventData]]:
        taken = tuple(LineQty(sku=line.sku, qty=line.qty) for line in lines)
        yield self._event(OrderHandedOver(order_id=order_id, lines=taken))
        yield from self._commit(order_id, lines)

    def _return(self, order_id: str, lines: tuple[OrderLine, ...], payment: str) -> Iterator[Event[EventData]]:
        """A return of too many units is refused; then all (or only the first line) come back and are refunded."""
        first = lines[0]
        asked = self._event(ReturnRequested(order_id=order_id, lines=(LineQty(sku=first.sku, qty=first.qty + 5),)))
        yield asked
        yield refusal(self._event, order_id, asked, "not_returnable", f"cannot return {first.qty + 5} x {first.sku}")
        back_lines = lines if self._rng.random() < 0.6 else lines[:1]
        back = tuple(LineQty(sku=line.sku, qty=line.qty) for line in back_lines)
        rma = f"{order_id}-R1"
        resellable = self._rng.random() < 0.7
        yield self._event(ReturnRequested(order_id=order_id, lines=back, reason="does not fit"))
        yield self._event(ReturnAuthorized(order_id=order_id, rma=rma, lines=back, reason="does not fit"))
        yield self._event(ReturnReceived(order_id=order_id, lines=back, resellable=resellable, rma=rma))
        yield self._event(ReturnRecorded(order_id=order_id, rma=rma, lines=back, inspected=True))
        if resellable:
            for line in back_lines:
                self._stock[line.sku].on_hand += line.qty
                yield self._event(StockReturned(sku=line.sku, order_id=order_id, qty=line.qty))
        yield refund(
            self._event, order_id, payment, total_of(back_lines), "return", "does not fit", lines=back, rma=rma
        )


def simulated_history(orders: int = 100, *, seed: int = 7, run: str = "sim") -> list[Event[EventData]]:
    return list(Simulation(orders=orders, seed=seed, run=run).events())
