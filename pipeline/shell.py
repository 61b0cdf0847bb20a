"""The loop around the pure rules: decode, dedupe, decide, emit, then remember.

At-least-once without Kafka transactions. For every batch:
1. decode each message (what cannot be decoded goes to the dead-letter topic);
2. skip what this key has already applied (its offset, or its event id, is remembered in the state);
3. run the pure rule, keeping the new state in memory;
4. send every output and wait for the broker's acks;
5. only then write the new states to the table's changelog; the source offsets are committed after.

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

SEEN_IDS_KEPT = 64


class HandlerFailed(Exception):
    """A side effect (carrier, notifier) failed for good; the input goes to the dead-letter topic."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass
class Stored(Generic[S]):
    """What the table keeps per key: the rule's state plus what has been applied to it."""

    state: S | None = None
    offsets: dict[str, int] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)

    def has_applied(self, position: str, offset: int, event_id: str) -> bool:
        return self.offsets.get(position, -1) >= offset or event_id in self.seen

    def applied(self, position: str, offset: int, event_id: str, state: S | None) -> Stored[S]:
        seen = [*self.seen[-(SEEN_IDS_KEPT - 1) :], event_id]
        return Stored(state=state, offsets={**self.offsets, position: offset}, seen=seen)


class StateCodec(Generic[S]):
    def __init__(self, state_type: type[S]) -> None:
        self.state_type = state_type

    def dumps(self, stored: Stored[S]) -> bytes:
        state = stored.state.model_dump(mode="json") if stored.state is not None else None
        return orjson.dumps({"s": state, "o": stored.offsets, "i": stored.seen})

    def loads(self, raw: bytes | None) -> Stored[S]:
        if not raw:
            return Stored()
        parsed = orjson.loads(raw)
        state = self.state_type.model_validate(parsed["s"]) if parsed["s"] is not None else None
        return Stored(state=state, offsets=parsed["o"], seen=parsed["i"])


@dataclass(frozen=True)
class Incoming:
    """One consumed Kafka message, independent of faust's types."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass
class BatchResult(Generic[S]):
    messages: list[Message] = field(default_factory=list)
    states: dict[str, tuple[Stored[S], int]] = field(default_factory=dict)
    applied: int = 0


class KeyedProcessor(Generic[S]):
    """Runs one processor's rule over a batch of messages; the caller sends and persists the result."""

    def __init__(
        self,
        name: str,
        handle: Handler[S],
        route: Route,
        load: Callable[[str], Stored[S]],
        deadletter_topic: str,
        ignored_types: frozenset[str] = frozenset(),
        concurrent_keys: int = 1,
    ) -> None:
        self.name = name
        self.handle = handle
        self.route = route
        self.load = load
        self.deadletter_topic = deadletter_topic
        self.ignored_types = ignored_types
        self.concurrent_keys = concurrent_keys

    async def run(self, batch: Sequence[Incoming], now: datetime | None = None) -> BatchResult[S]:
        """Applies the batch in order per key. Stages whose handler waits on I/O (a carrier, a notifier)
        set `concurrent_keys` > 1: different keys then wait side by side, each key still in order."""
        result: BatchResult[S] = BatchResult()
        now = now or utc_now()
        if self.concurrent_keys <= 1 or any(message.key is None for message in batch):
            # (an unkeyed message's state key is only known once decoded: keep such batches sequential)
            for message in batch:
                await self._one(message, now, result)
            return result
        per_key: dict[bytes | None, list[Incoming]] = {}
        for message in batch:
            per_key.setdefault(message.key, []).append(message)
        slots = asyncio.Semaphore(self.concurrent_keys)

        async def in_order(messages: list[Incoming]) -> None:
            async with slots:
                for message in messages:
                    await self._one(message, now, result)

        await asyncio.gather(*(in_order(messages) for messages in per_key.values()))
        return result

    async def _one(self, message: Incoming, now: datetime, result: BatchResult[S]) -> None:
        try:
            envelope = parse_envelope(message.value)
            kind = envelope.get("type")
            if isinstance(kind, str) and kind in self.ignored_types:
                return  # about half of what a stage reads (other stages' outputs): skipped before validation
            event = decode_envelope(envelope)
        except DecodeError as error:
            result.messages.append(self._deadletter(message, error.kind, error.message))
            return
        # The Kafka key says whose state this is: the order-replies topic carries stock events keyed by order.
        key = message.key.decode() if message.key else event.subject
        stored = result.states[key][0] if key in result.states else self.load(key)
        position = f"{message.topic}:{message.partition}"
        event_id = str(event.id)
        if stored.has_applied(position, message.offset, event_id):
            return
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
        data = DeadLetterRecorded(
            original_key=(message.key or b"").decode("utf-8", "replace"),
            source_topic=message.topic,
            source_partition=message.partition,
            source_offset=message.offset,
            processor=self.name,
            kind=kind,  # type: ignore[arg-type]
            reason=reason,
            original=base64.b64encode(message.value).decode("ascii"),
        )
        dead_id = natural_id("deadletter", self.name, message.topic, str(message.partition), str(message.offset))
        event = new_event(data, source=f"oms.pipeline.{self.name}", id=dead_id)
        return (self.deadletter_topic, event.subject.encode(), encode(event), event.type)


def summarize(result: BatchResult[Any]) -> str:
    return f"{result.applied} applied, {len(result.messages)} emitted"
