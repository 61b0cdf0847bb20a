"""What the chaos run sends, drawn from one seeded `random.Random`: stock, then orders at a rate, and around them
payments, cancellations, restocks, verbatim re-deliveries and poison records.

The plan is drawn up front (ids, times, contents), so a seed always sends the same things in the same order; each
record's bytes are made when it is sent, so event times (and payment deadlines) are those of the run.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import orjson
from aiokafka.partitioner import murmur2

from events import (
    Customer,
    EventData,
    OrderCancelRequested,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    StockAdjusted,
    StockIncomingScheduled,
    StockReceived,
    StockReorderPolicySet,
    encode,
    new_event,
    topics,
    utc_now,
)

SOURCE = "urn:oms:chaos:librdkafka"
PROCESSORS_READING: dict[str, frozenset[str]] = {
    topics.ORDERS: frozenset({"orders"}),
    topics.INVENTORY: frozenset({"inventory"}),
    topics.SHIPMENTS: frozenset({"orders"}),  # the shipping stage reads the internal shipment-requests topic
    topics.NOTIFICATIONS: frozenset({"notify"}),
}
"""The processors that read each public topic (pipeline/runtime/app.py): each must dead-letter a poison record
there."""


@dataclass(frozen=True)
class Mix:
    """What happens around the orders. Probabilities are per order unless said otherwise."""

    unpaid: float = 0.25  # placed with payment pending
    pays_later: float = 0.6  # of the unpaid: paid 1-10 s later; the rest run into the payment timeout
    cancels: float = 0.06  # a cancel request 0.3-8 s after placement (too late for some: refused)
    scarce_line: float = 0.15  # a line on a scarce sku: backorders, released and refilled by restocks
    till_sale: float = 0.05  # channel pos: handed over at the till, no carrier
    redeliveries: float = 0.01  # verbatim re-sends of earlier records, 5-20 s later (at least 3 per run)
    # A placement on a partition murmur2 does not give its key. Off by default: a worker that is not the group's
    # leader does not check partitions (issue 12, test_hostile_records), so it is not dead-lettered but split
    # from its order's other events, whatever the kills do. `--wrong-partition` puts it back in.
    wrong_partition: bool = False
    plenty_skus: int = 24
    scarce_skus: int = 6
    restocks: int = 12  # receipts, adjustments and purchase orders on scarce skus while orders flow


@dataclass(frozen=True)
class Planned:
    """One record to send `at` seconds after the load starts. `again_of` names the record whose very bytes it
    sends again; `partition` overrides the partitioner (a poison record on the wrong partition)."""

    at: float
    tag: str
    topic: str  # without the prefix
    key: bytes | None
    build: Callable[[], bytes | None] = lambda: None
    again_of: str | None = None
    partition: int | None = None


@dataclass(frozen=True)
class OrderPlan:
    order_id: str
    lines: tuple[tuple[str, int, Decimal], ...]
    paid_at_placement: bool
    pays_later: bool
    cancels: bool

    @property
    def total(self) -> Decimal:
        return sum((qty * price for _, qty, price in self.lines), Decimal(0))


@dataclass
class Plan:
    sends: list[Planned] = field(default_factory=list)
    orders: dict[str, OrderPlan] = field(default_factory=dict)
    poison: dict[str, str] = field(default_factory=dict)  # tag -> the topic it is sent to (without the prefix)
    redelivered: set[str] = field(default_factory=set)  # tags whose bytes are sent again
    stray_orders: set[str] = field(default_factory=set)  # order ids of the poison placements

    @property
    def duration_s(self) -> float:
        return max((item.at for item in self.sends), default=0.0)

    def count(self, prefix: str) -> int:
        return sum(1 for item in self.sends if item.tag.startswith(prefix))


def draw_plan(rng: random.Random, *, orders: int, rate: float, partitions: int, mix: Mix | None = None) -> Plan:
    """Everything the run will send, in the order it is sent."""
    mix = mix or Mix()
    plan = Plan()
    plenty = [f"CHAOS-P{index:02d}" for index in range(mix.plenty_skus)]
    scarce = [f"CHAOS-S{index:02d}" for index in range(mix.scarce_skus)]
    prices = {sku: Decimal(rng.randrange(250, 9900)) / 100 for sku in plenty + scarce}
    load_s = orders / rate
    _opening_stock(plan, rng, plenty, scarce, units=max(1000, 4 * orders))
    for index in range(orders):
        _order(plan, rng, mix, index, 0.5 + index / rate, plenty, scarce, prices)
    _restocks(plan, rng, mix, scarce, load_s)
    _redeliveries(plan, rng, mix, orders)
    _poison(plan, rng, load_s, partitions, plenty, wrong_partition=mix.wrong_partition)
    plan.sends.sort(key=lambda item: item.at)
    return plan


def planned_id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _event(data: EventData, event_id: uuid.UUID) -> Callable[[], bytes]:
    return lambda: encode(new_event(data, source=SOURCE, id=event_id))


def _opening_stock(plan: Plan, rng: random.Random, plenty: list[str], scarce: list[str], units: int) -> None:
    for sku in plenty:
        plan.sends.append(Planned(0.0, f"stock:{sku}", topics.INVENTORY, sku.encode(), _received(rng, sku, units)))
    for sku in scarce:
        plan.sends.append(Planned(0.0, f"stock:{sku}", topics.INVENTORY, sku.encode(), _received(rng, sku, 4)))
        policy = StockReorderPolicySet(sku=sku, reorder_point=2, reorder_qty=10)
        plan.sends.append(
            Planned(0.0, f"policy:{sku}", topics.INVENTORY, sku.encode(), _event(policy, planned_id(rng)))
        )


def _received(rng: random.Random, sku: str, qty: int) -> Callable[[], bytes]:
    return _event(StockReceived(sku=sku, qty=qty, purchase_order=f"PO-{rng.randrange(10**6)}"), planned_id(rng))


def _order(
    plan: Plan,
    rng: random.Random,
    mix: Mix,
    index: int,
    at: float,
    plenty: list[str],
    scarce: list[str],
    prices: dict[str, Decimal],
) -> None:
    order_id = f"o{index:05d}-{rng.getrandbits(24):06x}"
    skus = rng.sample(plenty, rng.choice((1, 1, 2, 2, 3)))
    if rng.random() < mix.scarce_line:
        skus.append(rng.choice(scarce))
    lines = tuple((sku, rng.choice((1, 1, 2)), prices[sku]) for sku in skus)
    unpaid = rng.random() < mix.unpaid
    order = OrderPlan(order_id, lines, not unpaid, unpaid and rng.random() < mix.pays_later, rng.random() < mix.cancels)
    plan.orders[order_id] = order
    channel = "pos" if rng.random() < mix.till_sale else rng.choice(("web", "web", "marketplace", "phone"))
    placed_id, customer = planned_id(rng), f"c{rng.randrange(500)}@example.com"
    key = order_id.encode()

    def placed() -> bytes:
        data = OrderPlaced(
            order_id=order_id,
            channel=channel,
            customer=Customer(email=customer, name="Chaos Customer"),
            lines=tuple(OrderLine(sku=sku, qty=qty, unit_price=price) for sku, qty, price in lines),
            currency="EUR",
            payment_status="paid" if order.paid_at_placement else "pending",
            placed_at=utc_now(),
        )
        return encode(new_event(data, source=SOURCE, id=placed_id))

    plan.sends.append(Planned(at, f"placed:{order_id}", topics.ORDERS, key, placed))
    if order.pays_later:
        paid = OrderPaid(
            order_id=order_id, amount=order.total, method="card", payment_id=f"{order_id}:card", currency="EUR"
        )
        later = at + rng.uniform(1.0, 10.0)
        plan.sends.append(Planned(later, f"paid:{order_id}", topics.ORDERS, key, _event(paid, planned_id(rng))))
    if order.cancels:
        cancel = OrderCancelRequested(order_id=order_id, reason="the customer changed their mind")
        later = at + rng.uniform(0.3, 8.0)
        plan.sends.append(Planned(later, f"cancel:{order_id}", topics.ORDERS, key, _event(cancel, planned_id(rng))))


def _restocks(plan: Plan, rng: random.Random, mix: Mix, scarce: list[str], load_s: float) -> None:
    for index in range(mix.restocks):
        sku, at = rng.choice(scarce), rng.uniform(1.0, max(2.0, load_s))
        choice = rng.random()
        data: EventData
        if choice < 0.6:
            data = StockReceived(sku=sku, qty=rng.randint(2, 8), purchase_order=f"PO-R{index}")
        elif choice < 0.8:
            data = StockAdjusted(sku=sku, delta=rng.choice((-3, -2, -1, 1, 2)), reason="cycle count")
        else:
            eta = utc_now() + timedelta(days=rng.randint(1, 9))
            data = StockIncomingScheduled(sku=sku, qty=rng.randint(5, 20), eta=eta, purchase_order=f"PO-I{index}")
        plan.sends.append(
            Planned(at, f"restock:{index}", topics.INVENTORY, sku.encode(), _event(data, planned_id(rng)))
        )


def _redeliveries(plan: Plan, rng: random.Random, mix: Mix, orders: int) -> None:
    """Verbatim re-sends (same key, same bytes, so the same id) of earlier inputs, long after the first."""
    candidates = sorted(
        (item for item in plan.sends if item.tag.split(":")[0] in {"stock", "placed", "paid", "cancel", "restock"}),
        key=lambda item: item.tag,
    )
    for original in rng.sample(candidates, min(len(candidates), max(3, round(orders * mix.redeliveries)))):
        plan.redelivered.add(original.tag)
        at = original.at + rng.uniform(5.0, 20.0)
        plan.sends.append(Planned(at, f"again:{original.tag}", original.topic, original.key, again_of=original.tag))


WRONG_PARTITION_ORDER = "poison-partition"
"""The order id of the placement sent to the wrong partition (`--wrong-partition`)."""


def _poison(
    plan: Plan, rng: random.Random, load_s: float, partitions: int, plenty: list[str], *, wrong_partition: bool
) -> None:
    """Records no processor can take: each must land on the dead-letter topic, from every processor reading it."""
    sku = rng.choice(plenty)
    placed = _stray_order(plan, rng)()
    elsewhere = ((murmur2(b"poison-partition") & 0x7FFFFFFF) + 1) % partitions  # not where murmur2 puts the key
    records: list[tuple[str, str, bytes | None, Callable[[], bytes | None], int | None]] = [
        ("tombstone", topics.ORDERS, b"poison-tombstone", lambda: None, None),
        ("non-utf8-key", topics.ORDERS, b"\xff\xfepoison-\xc3", _stray_order(plan, rng), None),
        ("malformed-json", topics.ORDERS, b"poison-json", lambda: placed[: len(placed) // 2], None),
        ("not-json", topics.INVENTORY, sku.encode(), lambda: b"\x00\x01 not json \xfe", None),
        ("order-on-inventory", topics.INVENTORY, b"poison-misplaced", _stray_order(plan, rng), None),
        ("stock-on-orders", topics.ORDERS, sku.encode(), _received(rng, sku, 1_000), None),
        ("not-cloudevent", topics.SHIPMENTS, b"poison-array", lambda: b'[1, 2, 3, "shipment"]', None),
        ("unknown-type", topics.NOTIFICATIONS, b"poison-type", lambda: _unknown_type(placed), None),
        ("wrong-key", topics.ORDERS, b"poison-not-its-key", _stray_order(plan, rng), None),
        ("oversized", topics.ORDERS, b"poison-huge", lambda: b'{"pad": "' + b"x" * 300_000 + b'"}', None),
    ]
    if wrong_partition:
        placement = _stray_order(plan, rng, WRONG_PARTITION_ORDER)
        records.append(("wrong-partition", topics.ORDERS, b"poison-partition", placement, elsewhere))
    for name, topic, key, build, partition in records:
        tag = f"poison:{name}"
        plan.poison[tag] = topic
        at = rng.uniform(1.0, max(2.0, load_s))
        plan.sends.append(Planned(at, tag, topic, key, build, partition=partition))


def _stray_order(plan: Plan, rng: random.Random, order_id: str | None = None) -> Callable[[], bytes]:
    """A valid placement that is not one of the run's orders (where it is sent makes it poison). Each poison record
    has its own event id and order id, so that what becomes of one never depends on another."""
    order_id = order_id or f"poison-{rng.getrandbits(32):08x}"
    plan.stray_orders.add(order_id)
    data = OrderPlaced(
        order_id=order_id,
        channel="web",
        customer=Customer(email="mallory@example.com"),
        lines=(OrderLine(sku="CHAOS-P00", qty=1, unit_price=Decimal("1.00")),),
        currency="EUR",
        payment_status="paid",
        placed_at=utc_now(),
    )
    return _event(data, planned_id(rng))


def _unknown_type(placed: bytes) -> bytes:
    envelope = orjson.loads(placed)
    envelope["type"] = "oms.order.teleported"
    return orjson.dumps(envelope)
