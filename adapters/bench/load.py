"""What the bench sends: a catalogue with stock, and paid orders that all confirm and ship."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from aiokafka import AIOKafkaProducer

from events import Customer, OrderLine, OrderPlaced, StockReceived, encode, new_event, topics, utc_now

SOURCE = "oms.bench"
STOCK_PER_SKU = 1_000_000  # never runs out: every bench order confirms
Message = tuple[str, bytes, bytes]  # topic, key, value


@dataclass(frozen=True)
class Catalogue:
    skus: tuple[str, ...]
    prices: tuple[Decimal, ...]

    @classmethod
    def make(cls, size: int, seed: int = 7) -> Catalogue:
        rng = random.Random(seed)
        skus = tuple(f"BENCH-{index:04d}" for index in range(size))
        prices = tuple(Decimal(rng.randrange(250, 9900)) / 100 for _ in range(size))
        return cls(skus, prices)


def stock_messages(catalogue: Catalogue, prefix: str) -> list[Message]:
    topic = f"{prefix}{topics.INVENTORY}"
    out = []
    for sku in catalogue.skus:
        event = new_event(StockReceived(sku=sku, qty=STOCK_PER_SKU, purchase_order=f"PO-{sku}"), source=SOURCE)
        out.append((topic, sku.encode(), encode(event)))
    return out


class OrderMaker:
    """Deterministic paid orders of 1-3 lines; `make(i)` stamps the event with the current time."""

    def __init__(self, catalogue: Catalogue, prefix: str, seed: int = 11) -> None:
        self.catalogue = catalogue
        self.topic = f"{prefix}{topics.ORDERS}"
        self.rng = random.Random(seed)

    def make(self, order_id: str, index: int) -> Message:
        picks = self.rng.sample(range(len(self.catalogue.skus)), self.rng.choice((1, 1, 2, 2, 3)))
        lines = tuple(
            OrderLine(sku=self.catalogue.skus[i], qty=self.rng.choice((1, 1, 2)), unit_price=self.catalogue.prices[i])
            for i in picks
        )
        data = OrderPlaced(
            order_id=order_id,
            channel="web",
            customer=Customer(email=f"c{index % 10_000}@example.com", name=f"Customer {index % 10_000}"),
            lines=lines,
            currency="EUR",
            payment_status="paid",
            placed_at=utc_now(),
        )
        return (self.topic, order_id.encode(), encode(new_event(data, source=SOURCE)))


def producer_for(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks=1,
        linger_ms=2,
        max_batch_size=256 * 1024,
        client_id="oms-bench",
    )


async def send_batch(producer: AIOKafkaProducer, messages: Sequence[Message]) -> None:
    """Send everything, then wait for every ack."""
    pending = [await producer.send(topic, key=key, value=value) for topic, key, value in messages]
    await asyncio.gather(*pending)


async def send_at_rate(
    producer: AIOKafkaProducer,
    count: int,
    rate: float,
    make: Callable[[int], Message],
    on_sent: Callable[[int, bytes, float], None],
) -> None:
    """Offer `count` messages at `rate` per second (an open loop: late ticks are not skipped)."""
    pending = []
    started = time.monotonic()
    for index in range(count):
        due = started + index / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        topic, key, value = make(index)
        on_sent(index, key, time.time())
        pending.append(await producer.send(topic, key=key, value=value))
    await asyncio.gather(*pending)
