"""The dead letter a stage writes for a record it could not take or apply: where the record is, why, and (the
first 64 KiB of) its bytes, under an id derived from its position so that a redelivery writes the same one."""

from __future__ import annotations

import base64

from events import DeadLetterRecorded, encode, natural_id, new_event
from pipeline.stages.records import Incoming, Message

ORIGINAL_KEPT = 64 * 1024
"""How much of a refused record a dead letter carries; the whole record stays at its offset on its topic."""


def dead_letter(processor: str, deadletter_topic: str, message: Incoming, kind: str, reason: str) -> Message:
    """The dead-letter message for `message`, which the stage `processor` could not take or apply."""
    value = message.value or b""
    kept = value[:ORIGINAL_KEPT]
    if len(kept) < len(value):
        reason = f"{reason} (the dead letter keeps the first {ORIGINAL_KEPT:,} bytes; the record is at its offset)"
    data = DeadLetterRecorded(
        original_key=(message.key or b"").decode("utf-8", "replace")[:256],
        source_topic=message.topic,
        source_partition=message.partition,
        source_offset=message.offset,
        processor=processor,
        kind=kind,
        reason=reason,
        original=base64.b64encode(kept).decode("ascii"),
        original_size=len(value) if message.value is not None else None,
    )
    dead_id = natural_id("deadletter", processor, message.topic, str(message.partition), str(message.offset))
    event = new_event(data, source=f"oms.pipeline.{processor}", id=dead_id)
    return (deadletter_topic, event.subject.encode(), encode(event), event.type)
