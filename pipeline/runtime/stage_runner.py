"""A stage at run time: one keyed processor and its state. Run a batch, send, wait for acks, then persist."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import faust
from pydantic import BaseModel

from pipeline.ports import StateWrite
from pipeline.runtime.faust_internals import kafka_producer
from pipeline.runtime.produce import KeyHomes, Record, send_records
from pipeline.stages.processor import Applied, KeyedProcessor
from pipeline.stages.records import Incoming, Message
from pipeline.stages.state import StageState, Written
from pipeline.stages.stored import Loader, StateCodec, Stored

S = TypeVar("S", bound=BaseModel)

# Per stage, the most recently used. An order is busy for seconds, then rests: a small cache has nearly every
# hit, and keeps the garbage collector's full passes short (a cache of every state made them 400 ms each).
DECODED_STATES_KEPT = 5_000

RETRY_FIRST_S, RETRY_MAX_S = 0.5, 30.0
log = logging.getLogger(__name__)

ProcessorFactory = Callable[[Loader[Any], Applied], KeyedProcessor[Any]]


class StageRunner(Generic[S]):
    """One keyed processor and its state: run a batch, send, wait for acks, then persist."""

    def __init__(
        self,
        app: faust.App,
        homes: KeyHomes,
        state: StageState,
        processor_factory: ProcessorFactory,
        state_type: type[S],
    ) -> None:
        self.app = app
        self.homes = homes
        self.state = state
        self.name = state.stage
        self.codec = StateCodec(state_type)
        self.processor: KeyedProcessor[Any] = processor_factory(self.load, state.applied)
        self.on_saved: Callable[[str, int, Any], None] | None = None
        # Decoded states next to the state's bytes. An entry is used only while the state still holds the very
        # bytes object it was decoded from, so a restore after a rebalance can never be shadowed by a stale decode.
        self._decoded: OrderedDict[bytes, tuple[bytes, Stored[Any]]] = OrderedDict()

    def load(self, key: str, partition: int) -> Stored[Any]:
        key_bytes = key.encode()
        raw = self.state.get(partition, key_bytes)
        cached = self._decoded.get(key_bytes)
        if cached is not None and cached[0] is raw:
            self._decoded.move_to_end(key_bytes)
            return cached[1]
        stored = self.codec.loads(raw)
        if raw is not None:
            self._remember(key_bytes, raw, stored)
        return stored

    def _remember(self, key: bytes, raw: bytes, stored: Stored[Any]) -> None:
        self._decoded[key] = (raw, stored)
        self._decoded.move_to_end(key)
        if len(self._decoded) > DECODED_STATES_KEPT:
            self._decoded.popitem(last=False)

    async def process_until_done(self, batch: Sequence[Any]) -> None:
        """faust's `take_events` acknowledges a batch when the agent's step returns, also when it raised, and a
        raising agent is dead for good: a failure (the broker or the local store not answering) is retried here
        until the batch's effects are durable, instead of losing the batch or the stage."""
        delay = RETRY_FIRST_S
        while True:
            try:
                await self.process(batch)
                return
            except Exception:
                log.exception("%s: a batch of %d records failed; trying again in %.1f s", self.name, len(batch), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)

    async def process(self, batch: Sequence[Any]) -> None:
        incoming = [_incoming(event.message) for event in batch]
        await self.state.restore({message.partition for message in incoming})
        await self.homes.learn({message.topic for message in incoming})
        result = await self.processor.run(incoming)
        await send_all(self.app, result.messages)
        changelog = self.state.changelog_topic
        records: list[Record] = []
        writes: dict[int, list[StateWrite]] = {}
        for key, (stored, partition) in result.states.items():
            if self.on_saved is not None:
                self.on_saved(key, partition, stored.state)
            raw = self.codec.dumps(stored)
            key_bytes = key.encode()
            records.append((changelog, partition, key_bytes, raw, None))
            writes.setdefault(partition, []).append(StateWrite(key_bytes, raw, stored.fresh_ids))
            self._remember(key_bytes, raw, Stored(stored.state, stored.offsets))
        # The inputs are acked (and later committed) only once their state is on the changelog, so a
        # rebalance that restores the state from the changelog never restores it to before a committed input.
        landed = await send_records(kafka_producer(self.app), records)
        await self.state.saved(writes, {p: _contiguous(p, landed.get((changelog, p), [])) for p in writes})


def _contiguous(partition: int, batches: list[tuple[int, int]]) -> Written | None:
    """Where a partition's records landed, if they landed one after another (no other writer in between)."""
    if not batches:
        return None
    first, count = batches[0]
    for offset, more in batches[1:]:
        if offset != first + count:
            return None
        count += more
    return Written(partition, first, count)


def _incoming(message: Any) -> Incoming:
    return Incoming(message.topic, message.partition, message.offset, message.key, message.value)


async def send_all(app: faust.App, messages: Sequence[Message]) -> None:
    """Send and wait until the broker has every one: state is only persisted after this."""
    await send_records(kafka_producer(app), ((topic, None, key, value, kind) for topic, key, value, kind in messages))


STAGE_TABLES = ("sku_to_stock", "order_to_state", "order_to_shipments", "order_to_notifications")
"""The state of each stage (inventory, orders, shipping, notify), by the name of its changelog."""
