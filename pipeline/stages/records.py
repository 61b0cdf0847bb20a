"""The Kafka records a stage reads and writes, independent of faust's types."""

from __future__ import annotations

from dataclasses import dataclass

Message = tuple[str, bytes, bytes, str]  # topic, key, value, event type (sent as the `oms-type` header)


@dataclass(frozen=True)
class Incoming:
    """One consumed Kafka message, independent of faust's types."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
