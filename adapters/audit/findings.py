"""What the auditor reads and what it reports: logged events, changelog records, violations and their evidence.

Pure: imports `events` only, so every invariant can be tested on hand-built records without Kafka.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from events import DeadLetterRecorded, Event, EventData

Position = tuple[str, int, int]  # topic, partition, offset

ORDER_PROCESSOR = "orders"
INVENTORY_PROCESSOR = "inventory"
SHIPPING_PROCESSOR = "shipping"
"""The processors' names, as their dead letters give them (`DeadLetterRecorded.processor`)."""

ORDER_DECIDED = "order_decided"
STOCK_BOUNDS = "stock_bounds"
SINGLE_EFFECT = "single_effect"
CANCELLED_NOT_SHIPPED = "cancelled_not_shipped"
SHIPMENT_DISPATCHED = "shipment_dispatched"
DISPATCH_APPLIED = "dispatch_applied"
CHANGELOG_MONOTONIC = "changelog_monotonic"
CHANGELOG_READABLE = "changelog_readable"
VIEW_MATCHES_LOG = "view_matches_log"

INVARIANTS: tuple[str, ...] = (
    ORDER_DECIDED,
    STOCK_BOUNDS,
    SINGLE_EFFECT,
    CANCELLED_NOT_SHIPPED,
    SHIPMENT_DISPATCHED,
    DISPATCH_APPLIED,
    CHANGELOG_MONOTONIC,
    CHANGELOG_READABLE,
    VIEW_MATCHES_LOG,
)
"""Every invariant `oms check` reports on, in the order it prints them (also the metric's label values)."""


@dataclass(frozen=True)
class Logged:
    """One decoded event where it sits on the log. `base_topic` is the topic's name without the prefix."""

    topic: str
    base_topic: str
    partition: int
    offset: int
    event: Event[EventData]
    timestamp_ms: int | None = None

    @property
    def is_on_home_topic(self) -> bool:
        """False for the copies the inventory processor puts on the internal order-replies topic."""
        return self.base_topic == self.event.data.topic

    @property
    def position(self) -> Position:
        return (self.topic, self.partition, self.offset)

    @property
    def appended_at(self) -> datetime:
        """When the record was written (its Kafka timestamp), else the event's own time."""
        if self.timestamp_ms is None or self.timestamp_ms <= 0:
            return self.event.time
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)


@dataclass(frozen=True)
class ChangelogRecord:
    """One record of a processor table's changelog topic, undecoded."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes | None


@dataclass(frozen=True)
class Evidence:
    """A record behind a violation: where it is, what it is, and the fields that matter."""

    topic: str
    partition: int
    offset: int
    event_id: str | None
    type: str | None
    fields: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "id": self.event_id,
            "type": self.type,
            "fields": dict(self.fields),
        }


@dataclass(frozen=True)
class Violation:
    invariant: str
    subject: str
    message: str
    evidence: tuple[Evidence, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "invariant": self.invariant,
            "subject": self.subject,
            "message": self.message,
            "evidence": [item.as_dict() for item in self.evidence],
            "details": dict(self.details),
        }


RELEVANT_FIELDS: tuple[str, ...] = (
    "order_id",
    "sku",
    "qty",
    "delta",
    "was_reserved",
    "shipment_id",
    "tracking_number",
    "kind",
    "request_id",
    "reason",
    "amount",
    "currency",
    "payment_status",
    "placed_at",
    "processor",
    "source_topic",
    "source_partition",
    "source_offset",
)
"""The data fields a person needs to act on a violation; an event shows those it has."""


def evidence_of(item: Logged, *names: str) -> Evidence:
    """The record as evidence: the named fields of its data (default: the relevant ones it has), as JSON
    values, and its causation."""
    names = names or RELEVANT_FIELDS
    data = item.event.data.model_dump(mode="json", include=set(names))
    fields = {name: data[name] for name in names if name in data}
    if item.event.causationid:
        fields["causationid"] = item.event.causationid
    return Evidence(item.topic, item.partition, item.offset, str(item.event.id), item.event.type, fields)


def home_events(log: Iterable[Logged]) -> list[Logged]:
    """The records on the topic their type belongs to (an order reply is a copy of an inventory record)."""
    return [item for item in log if item.is_on_home_topic]


def dead_lettered(log: Iterable[Logged], *, processor: str | None = None) -> set[Position]:
    """The (topic, partition, offset) of every record a processor (or that processor) dead-lettered."""
    return set(dead_letters_at(log, processor=processor))


def dead_letters_at(log: Iterable[Logged], *, processor: str | None = None) -> dict[Position, Logged]:
    """The dead letters of a processor (of any, when None), by the position of the record each refused: the
    position, not the id, says which record was refused (a copy elsewhere may carry the same id)."""
    found: dict[Position, Logged] = {}
    for item in log:
        dead = item.event.data
        if isinstance(dead, DeadLetterRecorded) and (processor is None or dead.processor == processor):
            found.setdefault((dead.source_topic, dead.source_partition, dead.source_offset), item)
    return found


def violation_counts(violations: Iterable[Violation]) -> dict[str, int]:
    """Violations per invariant, every invariant present (zero when it holds)."""
    counts = dict.fromkeys(INVARIANTS, 0)
    for violation in violations:
        counts[violation.invariant] = counts.get(violation.invariant, 0) + 1
    return counts
