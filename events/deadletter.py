"""What could not be decoded or applied, on `oms.deadletter`."""

from __future__ import annotations

from typing import Literal

from events import topics
from events.base import Count, EventData

DeadLetterKind = Literal[
    "malformed_json",
    "not_cloudevent",
    "unknown_type",
    "unsupported_version",
    "invalid_data",
    "wrong_topic",
    "wrong_key",
    "wrong_partition",
    "invalid_key",
    "no_value",
    "oversized",
    "reserved_type",
    "rejected",
    "carrier_failed",
    "notifier_failed",
]


class DeadLetterRecorded(EventData):
    """`original` is the message value as base64, so nothing is lost and it can be re-driven. Of a record over
    64 KiB it keeps the first 64 KiB (`original_size` says how large it was); the record stays at its offset."""

    event_type = "oms.deadletter.recorded"
    topic = topics.DEADLETTER
    key_field = "original_key"

    original_key: str
    source_topic: str
    source_partition: Count
    source_offset: Count
    processor: str
    kind: DeadLetterKind
    reason: str
    original: str
    original_size: Count | None = None


DEADLETTER_EVENTS: tuple[type[EventData], ...] = (DeadLetterRecorded,)
