"""The loop around the pure rules: decode, dedupe, decide, emit, then remember.

At-least-once without Kafka transactions. For every batch:
1. decode each message; whatever cannot be taken (no value, a key that is not the event's, a record too large,
   an event on the wrong topic, bytes that are no event of the contract) goes to the dead-letter topic with a
   reason, and the partition moves on;
2. skip what this stage has already applied: the key's state remembers the last offset it applied from each
   partition (a redelivery), and the stage's index every event id it ever applied (a duplicate however late);
3. run the pure rule, keeping the new state in memory;
4. send every output and wait for the broker's acks;
5. only then write the new states, with the ids they applied, to the changelog; offsets are committed after.

A crash before (5) replays the inputs from the old state and re-emits the same outputs with the same
(derived) ids, which every consumer drops. A crash after (5) skips the inputs it already applied.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel

from events import (
    DeadLetterRecorded,
    DecodeError,
    Event,
    EventData,
    check_envelope,
    decode_envelope,
    encode,
    natural_id,
    new_event,
    parse_envelope,
    utc_now,
)
from pipeline.rules.common import Decision, Rejected

log = logging.getLogger(__name__)

S = TypeVar("S", bound=BaseModel)
Handler = Callable[[S | None, Event[EventData], datetime], Awaitable[Decision[S]]]
Route = Callable[[Event[EventData]], list[tuple[str, str]]]
Message = tuple[str, bytes, bytes, str]  # topic, key, value, event type (sent as the `oms-type` header)
Applied = Callable[[list[str]], set[str]]  # which of these event ids the stage applied before

PIPELINE_SOURCE = "oms.pipeline."
MAX_EVENT_BYTES = 256 * 1024
"""A larger record is dead-lettered unread: no event of the contract comes near it (500 order lines are ~100 KiB)."""
ORIGINAL_KEPT = 64 * 1024
"""How much of a refused record a dead letter carries; the whole record stays at its offset on its topic."""


class HandlerFailed(Exception):
    """A side effect (carrier, notifier) failed for good; the input goes to the dead-letter topic."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass
class Stored(Generic[S]):
    """What the state keeps per key: the rule's state, the last offset applied from each source partition, and
    the ids of the events applied since it was last written (they go to the changelog and the stage's index)."""

    state: S | None = None
    offsets: dict[str, int] = field(default_factory=dict)
    fresh_ids: tuple[str, ...] = ()

    def has_applied(self, position: str, offset: int) -> bool:
        return self.offsets.get(position, -1) >= offset

    def applied(self, position: str, offset: int, event_id: str, state: S | None) -> Stored[S]:
        return Stored(state, {**self.offsets, position: offset}, (*self.fresh_ids, event_id))


Loader = Callable[[str, int], Stored[S]]  # a key's stored state, from its partition


class StateCodec(Generic[S]):
    """A key's changelog record: `{"s": state, "o": offsets, "a": ids applied in this write}`."""

    def __init__(self, state_type: type[S]) -> None:
        self.state_type = state_type

    def dumps(self, stored: Stored[S]) -> bytes:
        state = stored.state.model_dump(mode="json") if stored.state is not None else None
        return orjson.dumps({"s": state, "o": stored.offsets, "a": stored.fresh_ids})

    def loads(self, raw: bytes | None) -> Stored[S]:
        """The stored state; the ids it applied are the index's business, not the state's."""
        if not raw:
            return Stored()
        parsed = orjson.loads(raw)
        state = self.state_type.model_validate(parsed["s"]) if parsed["s"] is not None else None
        return Stored(state=state, offsets=parsed["o"])


@dataclass(frozen=True)
class Incoming:
    """One consumed Kafka message, independent of faust's types."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


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


class Refused(Exception):
    """A record a stage cannot take; it goes to the dead-letter topic with this kind and reason."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass
class BatchResult(Generic[S]):
    messages: list[Message] = field(default_factory=list)
    states: dict[str, tuple[Stored[S], int]] = field(default_factory=dict)
    applied: int = 0


@dataclass(frozen=True)
class _Taken:
    message: Incoming
    event: Event[EventData]
    key: str


class KeyedProcessor(Generic[S]):
    """Runs one processor's rule over a batch of messages; the caller sends and persists the result."""

    def __init__(
        self,
        name: str,
        handle: Handler[S],
        route: Route,
        load: Loader[S],
        deadletter_topic: str,
        ignored_types: frozenset[str] = frozenset(),
        concurrent_keys: int = 1,
        *,
        applied: Applied = lambda ids: set(),
        intake: Intake | None = None,
    ) -> None:
        self.name = name
        self.handle = handle
        self.route = route
        self.load = load
        self.deadletter_topic = deadletter_topic
        self.ignored_types = ignored_types
        self.concurrent_keys = concurrent_keys
        self.applied = applied
        self.intake = intake

    async def run(self, batch: Sequence[Incoming], now: datetime | None = None) -> BatchResult[S]:
        """Applies the batch in order per key. Stages whose handler waits on I/O (a carrier, a notifier)
        set `concurrent_keys` > 1: different keys then wait side by side, each key still in order."""
        result: BatchResult[S] = BatchResult()
        now = now or utc_now()
        taken = [item for item in (self._take(message, result) for message in batch) if item is not None]
        # One look-up in the stage's index for the whole batch: an id applied before, however long ago, is skipped.
        done = self.applied(list({str(item.event.id) for item in taken}))
        if self.concurrent_keys <= 1:
            for item in taken:
                await self._one(item, now, result, done)
            return result
        per_key: dict[str, list[_Taken]] = {}
        for item in taken:
            per_key.setdefault(item.key, []).append(item)
        slots = asyncio.Semaphore(self.concurrent_keys)

        async def in_order(items: list[_Taken]) -> None:
            async with slots:
                for item in items:
                    await self._one(item, now, result, done)

        await asyncio.gather(*(in_order(items) for items in per_key.values()))
        return result

    def _take(self, message: Incoming, result: BatchResult[S]) -> _Taken | None:
        """The message's event and key, or None: passed over, or dead-lettered with the reason."""
        try:
            event = self._decoded(message)
            if event is None:
                return None
            return _Taken(message, event, self._key_of(message, event))
        except DecodeError as error:
            result.messages.append(self._deadletter(message, error.kind, error.message))
        except Refused as refused:
            result.messages.append(self._deadletter(message, refused.kind, refused.reason))
        return None

    def _decoded(self, message: Incoming) -> Event[EventData] | None:
        if message.value is None:
            raise Refused("no_value", "the record has no value (a tombstone): events are never deleted from a topic")
        if len(message.value) > MAX_EVENT_BYTES:
            raise Refused(
                "oversized",
                f"the record is {len(message.value):,} bytes; no event of the contract is over {MAX_EVENT_BYTES:,}",
            )
        envelope = parse_envelope(message.value)
        kind = envelope.get("type")
        if isinstance(kind, str) and kind in self.ignored_types:
            # About half of what a stage reads: the pipeline's own outputs, skipped before their data is validated.
            check_envelope(envelope)
            source = envelope["source"]
            if not is_pipeline_source(source):
                raise Refused("reserved_type", f"{kind} is decided by the pipeline, not published by {source!r}")
            return None
        event = decode_envelope(envelope)
        carried = self.intake.carries.get(message.topic) if self.intake else None
        if carried is not None and event.data.topic != carried:
            raise Refused(
                "wrong_topic", f"{event.type} belongs on {event.data.topic}, not on {carried}; publish it there"
            )
        return event

    def _key_of(self, message: Incoming, event: Event[EventData]) -> str:
        """The Kafka key says whose state this is, and must be the event's own key so that every event of one
        order or sku shares a partition."""
        try:
            key = message.key.decode() if message.key is not None else None
        except UnicodeDecodeError:
            raise Refused("invalid_key", "the record's key is not UTF-8 text; it must be the event's key") from None
        if self.intake is None:
            return key if key is not None else event.subject
        expected = self.intake.expected_key(message.topic, event)
        if key != expected:
            raise Refused(
                "wrong_key",
                f"the record's key is {key!r}; {event.type} must be keyed by {expected!r} so that all events of "
                f"{expected} share a partition",
            )
        home = self.intake.partition_of(message.topic, expected.encode())
        if home is not None and home != message.partition:
            raise Refused(
                "wrong_partition",
                f"key {expected!r} belongs on partition {home} of {message.topic}, not {message.partition}: produce "
                "with the murmur2 partitioner (the Java client's and aiokafka's default; librdkafka: "
                "partitioner=murmur2_random)",
            )
        return expected

    async def _one(self, item: _Taken, now: datetime, result: BatchResult[S], done: set[str]) -> None:
        message, event, key = item.message, item.event, item.key
        stored = result.states[key][0] if key in result.states else self.load(key, message.partition)
        position = f"{message.topic}:{message.partition}"
        event_id = str(event.id)
        if stored.has_applied(position, message.offset) or event_id in done:
            return
        done.add(event_id)
        state = stored.state
        try:
            decision = await self.handle(state, event, now)
        except Rejected as rejected:
            result.messages.append(self._deadletter(message, "rejected", str(rejected)))
        except HandlerFailed as failed:
            result.messages.append(self._deadletter(message, failed.kind, failed.reason))
        else:
            state = decision.state
            for emitted in decision.emitted:
                value = encode(emitted)
                routes = self.route(emitted)
                result.messages.extend((topic, key_.encode(), value, emitted.type) for topic, key_ in routes)
        result.states[key] = (stored.applied(position, message.offset, event_id, state), message.partition)
        result.applied += 1

    def _deadletter(self, message: Incoming, kind: str, reason: str) -> Message:
        log.warning("%s dead-lettered %s[%d]@%d: %s", self.name, message.topic, message.partition, message.offset, kind)
        value = message.value or b""
        kept = value[:ORIGINAL_KEPT]
        if len(kept) < len(value):
            reason = f"{reason} (the dead letter keeps the first {ORIGINAL_KEPT:,} bytes; the record is at its offset)"
        data = DeadLetterRecorded(
            original_key=(message.key or b"").decode("utf-8", "replace")[:256],
            source_topic=message.topic,
            source_partition=message.partition,
            source_offset=message.offset,
            processor=self.name,
            kind=kind,
            reason=reason,
            original=base64.b64encode(kept).decode("ascii"),
            original_size=len(value) if message.value is not None else None,
        )
        dead_id = natural_id("deadletter", self.name, message.topic, str(message.partition), str(message.offset))
        event = new_event(data, source=f"oms.pipeline.{self.name}", id=dead_id)
        return (self.deadletter_topic, event.subject.encode(), encode(event), event.type)


def summarize(result: BatchResult[Any]) -> str:
    return f"{result.applied} applied, {len(result.messages)} emitted"
