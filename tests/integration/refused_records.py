"""Records the processors dead-letter, added to a history: what a hostile or buggy producer sends, and the dead
letters the owning processor writes of them. The views must come out as if they were not on the log.

Each kind the processors dead-letter a valid event for: a key that is not the event's, the wrong partition for its
key, a record over 256 KiB, a request refused (`rejected`); and copies of events already on the log, with their ids,
sent to the wrong partition (the dead letter names the copy, not the event with that id).
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from events import DeadLetterRecorded, Event, EventData, OrderPlaced, StockAdjusted, encode, new_event, topics
from projections.archive import Record
from tests import builders as b

PADDING = 300_000
"""Past the 256 KiB a processor reads: dead-lettered unread, though a valid event."""


@dataclass(frozen=True)
class RefusedRecord:
    """A record as a producer sends it, and the dead letter its topic's processor writes of it."""

    event: Event[EventData]
    processor: str
    kind: str
    key: str | None = None  # another key than the event's
    partition_shift: int = 0  # how many partitions away from its key's
    padding: int = 0

    @property
    def topic(self) -> str:
        return self.event.data.topic

    @property
    def record_key(self) -> str:
        return self.key if self.key is not None else self.event.subject

    def value(self) -> bytes:
        value = encode(self.event)
        if not self.padding:
            return value
        return value[:-1] + b', "padding": "' + b"p" * self.padding + b'"}'  # unknown attributes are ignored

    def partition(self, partitions: int) -> int:
        return (crc32_partition(self.record_key, partitions) + self.partition_shift) % partitions

    def dead_letter(self, topic: str, partition: int, offset: int) -> Event[EventData]:
        value = self.value()
        letter = DeadLetterRecorded(
            original_key=self.record_key,
            source_topic=topic,
            source_partition=partition,
            source_offset=offset,
            processor=self.processor,
            kind=self.kind,  # type: ignore[arg-type]
            reason=f"{self.kind}: {self.event.type} not taken (test)",
            original=base64.b64encode(value[: 64 * 1024]).decode(),
            original_size=len(value),
        )
        return new_event(letter, source=f"oms.pipeline.{self.processor}")


def crc32_partition(key: str, partitions: int) -> int:
    """Where `as_records` puts a key (the contract test's own partitioner)."""
    return zlib.crc32(key.encode()) % partitions


def refused_records(history: Sequence[Event[EventData]]) -> list[RefusedRecord]:
    """Valid events the processors dead-letter, about the skus and orders of `history`, and copies of its events."""
    sku = next(event.subject for event in history if event.type == "oms.stock.received")
    receipt = next(event for event in history if event.type == "oms.stock.received")
    placement = next(event for event in history if event.type == "oms.order.placed")
    adjusted = StockAdjusted(sku=sku, delta=-1_000_000, reason="count")
    email = placement.data.customer.email if isinstance(placement.data, OrderPlaced) else None
    return [
        RefusedRecord(
            b.order_placed("refused-key", {sku: 1}, email=email or "ada@example.com"),  # a customer of the history's
            "orders",
            "wrong_key",
            key="not-its-key",
        ),
        RefusedRecord(b.order_placed("refused-partition", {sku: 2}), "orders", "wrong_partition", partition_shift=1),
        RefusedRecord(
            b.order_placed("refused-huge", {sku: 3}, email="huge@example.com"), "orders", "oversized", padding=PADDING
        ),
        RefusedRecord(b.cancel("never-placed"), "orders", "rejected"),
        RefusedRecord(new_event(adjusted, source="ops"), "inventory", "rejected"),
        RefusedRecord(b.stock_received(sku, 500), "inventory", "wrong_key", key="not-its-sku"),
        RefusedRecord(b.reorder_policy(sku, point=999, qty=1), "inventory", "wrong_partition", partition_shift=1),
        RefusedRecord(b.incoming(sku, 7, "PO-REFUSED"), "inventory", "oversized", padding=PADDING),
        RefusedRecord(receipt, "inventory", "wrong_partition", partition_shift=1),
        RefusedRecord(placement, "orders", "wrong_partition", partition_shift=1),
        RefusedRecord(placement, "orders", "wrong_partition", partition_shift=-1),  # one of the two sorts before it
    ]


REFUSED_ORDERS = ("refused-key", "refused-partition", "refused-huge", "never-placed")
"""The order ids of the refused placements and request: none is an order."""


def with_refused_records(
    records: Sequence[Record], history: Sequence[Event[EventData]], partitions: int
) -> list[Record]:
    """`records` (the history as it sits on the topics), then the refused records, with their dead letters: half of
    these met before everything (as a replay meets them), half after their records (as live mostly does)."""
    prefix = records[0].topic[: -len(history[0].data.topic)]
    next_offset: dict[tuple[str, int], int] = {}
    for record in records:
        next_offset[(record.topic, record.partition)] = max(
            next_offset.get((record.topic, record.partition), 0), record.offset + 1
        )

    def put(topic: str, partition: int, key: str, value: bytes) -> Record:
        offset = next_offset.get((topic, partition), 0)
        next_offset[(topic, partition)] = offset + 1
        return Record(topic, partition, offset, key, value)

    hostile, letters = [], []
    for refused in refused_records(history):
        record = put(f"{prefix}{refused.topic}", refused.partition(partitions), refused.record_key, refused.value())
        hostile.append(record)
        letters.append(refused.dead_letter(record.topic, record.partition, record.offset))
    dead = [put(f"{prefix}{topics.DEADLETTER}", 0, letter.subject, encode(letter)) for letter in letters]
    half = len(dead) // 2
    return [*dead[:half], *records, *hostile, *dead[half:]]
