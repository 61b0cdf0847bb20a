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

What may be taken is in `intake`, the dead letters in `deadletters`, the state kept per key in `stored`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from events import DecodeError, Event, EventData, encode, utc_now
from pipeline.rules.common import Decision, Rejected
from pipeline.stages.deadletters import dead_letter
from pipeline.stages.intake import Intake, Refused, decoded, key_of
from pipeline.stages.records import Incoming, Message
from pipeline.stages.stored import Loader, Stored

log = logging.getLogger(__name__)

S = TypeVar("S", bound=BaseModel)
Handler = Callable[[S | None, Event[EventData], datetime], Awaitable[Decision[S]]]
Route = Callable[[Event[EventData]], list[tuple[str, str]]]
Applied = Callable[[list[str]], set[str]]  # which of these event ids the stage applied before


class HandlerFailed(Exception):
    """A side effect (carrier, notifier) failed for good; the input goes to the dead-letter topic."""

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
            event = decoded(message, self.intake, self.ignored_types)
            if event is None:
                return None
            return _Taken(message, event, key_of(message, event, self.intake))
        except DecodeError as error:
            result.messages.append(self._deadletter(message, error.kind, error.message))
        except Refused as refused:
            result.messages.append(self._deadletter(message, refused.kind, refused.reason))
        return None

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
        return dead_letter(self.name, self.deadletter_topic, message, kind, reason)


def summarize(result: BatchResult[Any]) -> str:
    return f"{result.applied} applied, {len(result.messages)} emitted"
