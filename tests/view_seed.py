"""A busy stretch of orders written straight into the orders view through the projection's apply path (no broker):
thousands of orders in seconds, for the dashboard's aggregate tests, its browser test and its timings.

seeder = ViewSeeder(engine)
seeder.add(busy_stretch(5_000, end=now, minutes=40))      # orders received over the 40 minutes before `now`
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from events import (
    BackorderedLine,
    Customer,
    Event,
    EventData,
    OrderBackordered,
    OrderCancelled,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    OrderShipped,
    RefundIssued,
    encode,
    natural_id,
)
from events.envelope import new_event
from projections.archive import Record
from projections.projector import INVENTORY, ORDERS, apply_records, prepare_views
from projections.tracking import tracked_offsets

CHANNELS = ("web", "marketplace", "pos", "phone")
SKUS = ("TEE-BLK-M", "MUG-01", "CAP-RED", "SOCK-3P")
BATCH = 4_000


@dataclass
class ViewSeeder:
    """Applies events to the orders projection, each topic one partition, offsets continuing across calls."""

    engine: Engine

    def __post_init__(self) -> None:
        with self.engine.begin() as conn:
            prepare_views(conn, ORDERS)
            prepare_views(conn, INVENTORY)  # empty, as beside a running pipeline: the API reads both
            done = tracked_offsets(conn, ORDERS.name)
        self._offsets = {topic: offset + 1 for (topic, _), offset in done.items()}

    def add(self, events: Iterable[Event[EventData]]) -> None:
        records = [self._record(event) for event in sorted(events, key=lambda event: event.time)]
        for start in range(0, len(records), BATCH):
            with self.engine.begin() as conn:
                apply_records(conn, ORDERS, records[start : start + BATCH])

    def _record(self, event: Event[EventData]) -> Record:
        topic = event.data.topic
        offset = self._offsets.get(topic, 0)
        self._offsets[topic] = offset + 1
        return Record(topic, 0, offset, event.subject, encode(event))


def busy_stretch(
    orders: int, *, end: datetime, minutes: int = 40, seed: int = 1, run: str = "busy"
) -> list[Event[EventData]]:
    """`orders` orders received at random over the `minutes` before `end`, unevenly per minute, with what became of
    each by `end`: shipped (some 0.1 s after they arrived), confirmed, waiting for payment, backordered with and
    without an ETA, cancelled and refunded, or just placed. A marketplace's `placed_at` is up to 2 h before the
    system received the order."""
    rng = random.Random(seed)
    start = end - timedelta(minutes=minutes)
    busy = [rng.uniform(0.2, 3.0) for _ in range(minutes)]  # some minutes far busier than others
    events: list[Event[EventData]] = []
    for number in range(orders):
        minute = rng.choices(range(minutes), weights=busy)[0]
        received = start + timedelta(minutes=minute, seconds=rng.uniform(0, 59.9))
        events += _one_order(rng, f"{run}-{number:06d}", received, end)
    return events


def _one_order(rng: random.Random, order_id: str, received: datetime, end: datetime) -> Iterator[Event[EventData]]:
    ids = iter(range(10))

    def at(data: EventData, time: datetime) -> Event[EventData]:
        return new_event(data, source="tests/seed", id=natural_id(order_id, str(next(ids))), time=time)

    channel = rng.choice(CHANNELS)
    lag = timedelta(hours=rng.uniform(0, 2)) if channel == "marketplace" else timedelta(0)
    fate = rng.random()
    sku = rng.choice(SKUS)
    price = Decimal(rng.randint(199, 9999)) / 100
    placed = OrderPlaced(
        order_id=order_id,
        channel=channel,
        external_ref=f"#{order_id.upper()}",
        customer=Customer(email=f"buyer{rng.randint(1, 900)}@example.com", name=f"Buyer {rng.randint(1, 900)}"),
        lines=(OrderLine(sku=sku, qty=rng.randint(1, 3), unit_price=price),),
        currency="EUR",
        payment_status="pending" if fate < 0.10 else "paid",
        placed_at=received - lag,
        fulfilment="ship",
    )
    yield at(placed, received)
    if fate < 0.10:
        return  # awaiting payment
    later = _after(rng, received, end)
    if fate < 0.20:
        eta = end + timedelta(days=2) if rng.random() < 0.3 else None
        yield at(OrderBackordered(order_id=order_id, eta=eta, lines=(BackorderedLine(sku=sku, qty=1, eta=eta),)), later)
        return
    if fate < 0.25:
        yield at(OrderCancelled(order_id=order_id, reason="customer asked"), later)
        paid = placed.goods_total() + placed.shipping_charge
        refund = RefundIssued(
            order_id=order_id,
            amount=paid,
            currency="EUR",
            reason="cancelled",
            payment_id=f"{order_id}:placement",
            cause="cancellation",
        )
        yield at(refund, later)
        return
    if fate < 0.30:
        return  # placed, paid, not yet confirmed
    yield at(OrderConfirmed(order_id=order_id, skus=(sku,)), later)
    if fate < 0.45:
        return  # its parcel was asked for
    shipped = _after(rng, later, end)
    parcel = f"{order_id}-p1"
    tracking = {"carrier": "dhl", "tracking_number": f"T{order_id}", "tracking_url": "https://track.example/t"}
    yield at(OrderShipped(order_id=order_id, shipment_id=parcel, **tracking), shipped)


def _after(rng: random.Random, moment: datetime, end: datetime) -> datetime:
    """A moment after `moment`, by `end`: often within a second, sometimes minutes later."""
    room = max(0.0, (end - moment).total_seconds())
    step = rng.choice([0.1, 0.5, rng.uniform(1, 60), rng.uniform(0, room)])
    return moment + timedelta(seconds=min(step, room))


def placed(
    order_id: str, received: datetime, *, placed_at: datetime | None = None, paid: bool = True, price: str = "10.00"
) -> Event[EventData]:
    """An order received at `received`; its channel may say it was placed earlier."""
    data = OrderPlaced(
        order_id=order_id,
        channel="web",
        external_ref=f"#{order_id}",
        customer=Customer(email=f"{order_id.lower()}@example.com", name=f"Buyer {order_id}"),
        lines=(OrderLine(sku="MUG-01", qty=1, unit_price=Decimal(price)),),
        currency="EUR",
        payment_status="paid" if paid else "pending",
        placed_at=placed_at or received,
    )
    return happened(data, received)


def happened(data: EventData, time: datetime) -> Event[EventData]:
    return new_event(data, source="tests/seed", time=time)
