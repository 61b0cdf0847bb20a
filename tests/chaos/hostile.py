"""Hostile records for the topics, drawn from one seeded `random.Random`: random bytes, JSON that is not an event,
truncated and bit-flipped envelopes, envelopes with fields dropped or given hostile values, huge values, null
values, odd keys, valid events on the wrong topic or the wrong partition.

`fate` says what a processor must do with one, from the contract alone (events/, docs/event-flow.md): dead-letter
it, take it (apply it, refuse it with a dead letter, or skip it as an id it has applied), or pass it over unread
(its `type` is one of the processor's own outputs, which it ignores).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import orjson
from aiokafka.partitioner import murmur2

from events import (
    Customer,
    DecodeError,
    EventData,
    NotificationRequested,
    OrderCancelRequested,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    ReturnRequested,
    ShipmentDelivered,
    StockAdjusted,
    StockIncomingScheduled,
    StockReceived,
    StockReorderPolicySet,
    decode,
    decode_envelope,
    encode,
    new_event,
    parse_envelope,
    topics,
)
from events.common import LineQty

Fate = Literal["dead", "taken", "passed_over"]
INPUT_TOPICS = (topics.ORDERS, topics.INVENTORY, topics.SHIPMENTS, topics.NOTIFICATIONS)
MAX_EVENT_BYTES = 256 * 1024  # pipeline/stages/intake.py: a larger record is dead-lettered unread
SOURCE = "urn:oms:fuzz"
HOSTILE_VALUES: tuple[Any, ...] = (
    None,
    0,
    -1,
    2**70,
    1e308,
    float("inf"),
    "",
    "x" * 5000,
    "\u0000",
    "💥\ud7ff",
    [],
    {},
    True,
    [[[[[[[[[[[]]]]]]]]]]],
    {"a": {"b": {"c": None}}},
    "2026-02-30T25:61:00Z",
    "not-a-uuid",
)


@dataclass(frozen=True)
class Hostile:
    """One record to produce; `partition` None lets murmur2 place it by its key."""

    category: str
    topic: str  # without the prefix
    key: bytes | None
    value: bytes | None
    partition: int | None = None


def draw_hostile(rng: random.Random, count: int, partitions: int) -> list[Hostile]:
    makers = [(maker, weight) for maker, weight in CATEGORIES.values()]
    chosen = rng.choices([maker for maker, _ in makers], weights=[weight for _, weight in makers], k=count)
    return [maker(rng, partitions) for maker in chosen]


# --- valid events to start from -----------------------------------------------------------------------------


def _order_id(rng: random.Random) -> str:
    return f"fz-{rng.getrandbits(32):08x}"


def _sku(rng: random.Random) -> str:
    return f"FZ-{rng.randrange(40):02d}"


def valid_event(rng: random.Random) -> tuple[str, bytes, bytes]:
    """An inbound event of the contract, as (topic, key, value)."""
    data = rng.choice(VALID_DATA)(rng)
    event = new_event(data, source=SOURCE, id=uuid.UUID(int=rng.getrandbits(128), version=4))
    return data.topic, data.partition_key().encode(), encode(event)


def _placed(rng: random.Random) -> EventData:
    skus = sorted({_sku(rng) for _ in range(rng.randint(1, 3))})  # (one line per sku)
    lines = tuple(
        OrderLine(sku=sku, qty=rng.randint(1, 3), unit_price=Decimal(rng.randrange(100, 9999)) / 100) for sku in skus
    )
    return OrderPlaced(
        order_id=_order_id(rng),
        channel=rng.choice(("web", "pos", "marketplace")),
        customer=Customer(email=f"f{rng.randrange(100)}@example.com", name="Fuzz"),
        lines=lines,
        currency="EUR",
        payment_status=rng.choice(("paid", "pending")),
        placed_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**7)),
    )


VALID_DATA: tuple[Callable[[random.Random], EventData], ...] = (
    _placed,
    lambda rng: OrderPaid(order_id=_order_id(rng), amount=Decimal(rng.randrange(1, 10**5)) / 100, currency="EUR"),
    lambda rng: OrderCancelRequested(order_id=_order_id(rng), reason="fuzz"),
    lambda rng: ReturnRequested(order_id=_order_id(rng), lines=(LineQty(sku=_sku(rng), qty=1),), reason="fuzz"),
    lambda rng: StockReceived(sku=_sku(rng), qty=rng.randint(1, 50)),
    lambda rng: StockAdjusted(sku=_sku(rng), delta=rng.randint(-5, 5) or 1, reason="fuzz"),
    lambda rng: StockReorderPolicySet(sku=_sku(rng), reorder_point=rng.randint(0, 9), reorder_qty=rng.randint(0, 9)),
    lambda rng: StockIncomingScheduled(
        sku=_sku(rng), qty=rng.randint(1, 9), eta=datetime(2027, 1, 1, tzinfo=UTC), purchase_order="PO-FZ"
    ),
    lambda rng: ShipmentDelivered(
        order_id=_order_id(rng), tracking_number=f"T{rng.randrange(10**6)}", delivered_at=datetime.now(UTC)
    ),
    lambda rng: NotificationRequested(order_id=_order_id(rng), kind="confirmed", recipient="f@example.com"),
)


# --- the categories ------------------------------------------------------------------------------------------


def random_bytes(rng: random.Random, partitions: int) -> Hostile:
    size = rng.choice((0, 1, 7, 100, 1000, 5000))
    return Hostile("random_bytes", rng.choice(INPUT_TOPICS), _maybe_key(rng), rng.randbytes(size))


def json_not_event(rng: random.Random, partitions: int) -> Hostile:
    value = rng.choice((b"null", b"1", b'"event"', b"[]", b"{}", b'[{"type": "oms.order.placed"}]', b"true"))
    return Hostile("json_not_event", rng.choice(INPUT_TOPICS), _maybe_key(rng), value)


def truncated(rng: random.Random, partitions: int) -> Hostile:
    topic, key, value = valid_event(rng)
    return Hostile("truncated", topic, key, value[: rng.randrange(len(value))])


def bit_flipped(rng: random.Random, partitions: int) -> Hostile:
    topic, key, value = valid_event(rng)
    mutable = bytearray(value)
    for _ in range(rng.randint(1, 6)):
        mutable[rng.randrange(len(mutable))] ^= 1 << rng.randrange(8)
    return Hostile("bit_flipped", topic, key, bytes(mutable))


def spliced(rng: random.Random, partitions: int) -> Hostile:
    topic, key, value = valid_event(rng)
    at = rng.randrange(len(value))
    if rng.random() < 0.5:
        value = value[:at] + rng.randbytes(rng.randint(1, 20)) + value[at:]
    else:
        value = value[:at] + value[at + rng.randint(1, 20) :]
    return Hostile("spliced", topic, key, value)


def field_edited(rng: random.Random, partitions: int) -> Hostile:
    """A dropped attribute or data field, or one with a hostile value (type, version, id, time, data...)."""
    topic, key, value = valid_event(rng)
    envelope = orjson.loads(value)
    target = envelope["data"] if rng.random() < 0.5 else envelope
    name = rng.choice(sorted(target))
    if rng.random() < 0.25:
        del target[name]
    elif name == "type" and rng.random() < 0.5:
        target[name] = rng.choice((*_REGISTERED_TYPES, "oms.order.teleported", "OMS.ORDER.PLACED", ""))
    else:
        target[name] = rng.choice(HOSTILE_VALUES)
    return Hostile("field_edited", topic, key, json.dumps(envelope).encode())  # (2**70 and Infinity too)


def huge(rng: random.Random, partitions: int) -> Hostile:
    """Padded past the 256 KiB a processor reads (dead-lettered unread), or just under it (an event all the same:
    unknown attributes are ignored)."""
    topic, key, value = valid_event(rng)
    envelope = orjson.loads(value)
    size = rng.choice((MAX_EVENT_BYTES + 1, 600_000)) if rng.random() < 0.7 else MAX_EVENT_BYTES - 10_000
    envelope["padding"] = "p" * (size - len(value))
    return Hostile("huge", topic, key, orjson.dumps(envelope))


def null_value(rng: random.Random, partitions: int) -> Hostile:
    return Hostile("null_value", rng.choice(INPUT_TOPICS), _maybe_key(rng), None)


def odd_key(rng: random.Random, partitions: int) -> Hostile:
    topic, key, value = valid_event(rng)
    odd = rng.choice((None, b"", b"\xff\xfe\xfd", b"k\x00ey", key + b" ", key.upper(), b"x" * 10_000, b"fz-other"))
    return Hostile("odd_key", topic, odd, value)


def wrong_topic(rng: random.Random, partitions: int) -> Hostile:
    topic, key, value = valid_event(rng)
    return Hostile("wrong_topic", rng.choice([name for name in INPUT_TOPICS if name != topic]), key, value)


def wrong_partition(rng: random.Random, partitions: int) -> Hostile:
    topic, key, value = valid_event(rng)
    elsewhere = (home_partition(key, partitions) + rng.randint(1, partitions - 1)) % partitions
    return Hostile("wrong_partition", topic, key, value, elsewhere)


CATEGORIES: dict[str, tuple[Callable[[random.Random, int], Hostile], float]] = {
    "random_bytes": (random_bytes, 8),
    "json_not_event": (json_not_event, 5),
    "truncated": (truncated, 10),
    "bit_flipped": (bit_flipped, 14),
    "spliced": (spliced, 8),
    "field_edited": (field_edited, 25),
    "huge": (huge, 3),
    "null_value": (null_value, 5),
    "odd_key": (odd_key, 8),
    "wrong_topic": (wrong_topic, 8),
    "wrong_partition": (wrong_partition, 6),
}
_REGISTERED_TYPES = (
    "oms.order.placed",
    "oms.order.paid",
    "oms.stock.received",
    "oms.stock.adjusted",
    "oms.shipment.delivered",
    "oms.notification.requested",
    "oms.return.received",
)


def _maybe_key(rng: random.Random) -> bytes | None:
    return rng.choice((None, b"", _order_id(rng).encode(), _sku(rng).encode(), b"\xc3\x28"))


def home_partition(key: bytes, partitions: int) -> int:
    """Where the Java client's, aiokafka's and librdkafka's murmur2 partitioners put `key`."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


# --- what a processor must do with one ------------------------------------------------------------------------


def fate(record: Hostile, partition: int, partitions: int, ignored: frozenset[str]) -> Fate:
    """What a processor reading `record.topic` (and ignoring the types `ignored`) must do with it, landed on
    `partition`: the contract's rules, in the order docs/event-flow.md and the README give them."""
    if record.value is None or len(record.value) > MAX_EVENT_BYTES:
        return "dead"
    try:
        envelope = parse_envelope(record.value)
        kind = envelope.get("type")
        if isinstance(kind, str) and kind in ignored:
            return "passed_over"
        event = decode_envelope(envelope)
    except DecodeError:
        return "dead"
    if event.data.topic != record.topic:
        return "dead"
    expected = event.data.partition_key().encode()
    if record.key != expected or home_partition(expected, partitions) != partition:
        return "dead"  # (a key that is not UTF-8 is never the event's key)
    return "taken"


def event_id_of(value: bytes | None) -> str | None:
    """The id of the event in `value`, if it is one."""
    try:
        return str(decode(value or b"").id)
    except DecodeError:
        return None
