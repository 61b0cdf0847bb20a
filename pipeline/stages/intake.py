"""What a stage may take: a record with a value of sane size, an event of the contract on its own topic, keyed
and partitioned as its producer must. Anything else is `Refused` with a reason for the dead-letter topic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from events import Event, EventData, check_envelope, decode_envelope, parse_envelope
from pipeline.stages.records import Incoming

PIPELINE_SOURCE = "oms.pipeline."
MAX_EVENT_BYTES = 256 * 1024
"""A larger record is dead-lettered unread: no event of the contract comes near it (500 order lines are ~100 KiB)."""


class Refused(Exception):
    """A record a stage cannot take; it goes to the dead-letter topic with this kind and reason."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True)
class Intake:
    """What a stage may take from which topic: the contract topic each input topic carries (the internal
    order-replies topic carries inventory events keyed by order id), and how to find an event's key there."""

    carries: dict[str, str]  # input topic name -> contract topic of the events it may carry
    keyed_by_order: frozenset[str] = frozenset()  # input topics whose key is the event's order id
    partition_of: Callable[[str, bytes], int | None] = lambda topic, key: None  # where the producer would put key

    def expected_key(self, topic: str, event: Event[EventData]) -> str:
        if topic in self.keyed_by_order:
            return str(getattr(event.data, "order_id", event.subject))
        return event.data.partition_key()


def is_pipeline_source(source: str) -> bool:
    """True for the `source` of an event one of the pipeline's stages wrote (`oms.pipeline.<stage>`)."""
    return source.startswith(PIPELINE_SOURCE)


def decoded(message: Incoming, intake: Intake | None, ignored_types: frozenset[str]) -> Event[EventData] | None:
    """The message's event, or None for one of the pipeline's own outputs the stage passes over."""
    if message.value is None:
        raise Refused("no_value", "the record has no value (a tombstone): events are never deleted from a topic")
    if len(message.value) > MAX_EVENT_BYTES:
        raise Refused(
            "oversized",
            f"the record is {len(message.value):,} bytes; no event of the contract is over {MAX_EVENT_BYTES:,}",
        )
    envelope = parse_envelope(message.value)
    kind = envelope.get("type")
    if isinstance(kind, str) and kind in ignored_types:
        # About half of what a stage reads: the pipeline's own outputs, skipped before their data is validated.
        check_envelope(envelope)
        source = envelope["source"]
        if not is_pipeline_source(source):
            raise Refused("reserved_type", f"{kind} is decided by the pipeline, not published by {source!r}")
        return None
    event = decode_envelope(envelope)
    carried = intake.carries.get(message.topic) if intake else None
    if carried is not None and event.data.topic != carried:
        raise Refused("wrong_topic", f"{event.type} belongs on {event.data.topic}, not on {carried}; publish it there")
    return event


def key_of(message: Incoming, event: Event[EventData], intake: Intake | None) -> str:
    """The Kafka key says whose state this is, and must be the event's own key so that every event of one
    order or sku shares a partition."""
    try:
        key = message.key.decode() if message.key is not None else None
    except UnicodeDecodeError:
        raise Refused("invalid_key", "the record's key is not UTF-8 text; it must be the event's key") from None
    if intake is None:
        return key if key is not None else event.subject
    expected = intake.expected_key(message.topic, event)
    if key != expected:
        raise Refused(
            "wrong_key",
            f"the record's key is {key!r}; {event.type} must be keyed by {expected!r} so that all events of "
            f"{expected} share a partition",
        )
    home = intake.partition_of(message.topic, expected.encode())
    if home is not None and home != message.partition:
        raise Refused(
            "wrong_partition",
            f"key {expected!r} belongs on partition {home} of {message.topic}, not {message.partition}: produce "
            "with the murmur2 partitioner (the Java client's and aiokafka's default; librdkafka: "
            "partitioner=murmur2_random)",
        )
    return expected
