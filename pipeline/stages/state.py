"""A stage's per-key state for the partitions this worker owns: restored from its changelog, then kept current.

The changelog topic is the truth: one record per key and write, `{"s": state, "o": offsets, "a": applied ids}`.
This worker keeps a local copy (`LocalStateStore`, SQLite) with how far into each changelog partition it goes,
so a restart or a rebalance reads only what other workers wrote since. A partition is restored before anything
of it is processed, always to the changelog's true end (the embedded broker reports the end of its last record
batch's start, so `ChangelogReader` reads past that answer; faust's own table recovery stopped there and brought
back old states).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from pipeline.ports import ChangelogReader, LocalStateStore, StateWrite

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 2.0
FLUSH_IDS = 20_000


@dataclass(frozen=True)
class Written:
    """Where this worker's own changelog records of one partition landed."""

    partition: int
    first_offset: int
    count: int


def applied_ids_of(value: bytes) -> tuple[str, ...]:
    """The event ids a changelog record says its write applied (`a`; `i` in records of older versions)."""
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return ()
    if not isinstance(parsed, dict):
        return ()
    ids = parsed.get("a", parsed.get("i", ()))
    return tuple(item for item in ids if isinstance(item, str)) if isinstance(ids, list) else ()


class StageState:
    """The states of one stage, by partition; only partitions restored to the changelog's end are served."""

    def __init__(self, stage: str, changelog_topic: str, store: LocalStateStore, reader: ChangelogReader) -> None:
        self.stage = stage
        self.changelog_topic = changelog_topic
        self.store = store
        self.reader = reader
        self.owned: set[int] = set()
        self._partitions: dict[int, dict[bytes, bytes]] = {}
        self._positions: dict[int, int] = {}
        self._current: set[int] = set()  # restored partitions read to the changelog's end since the last rebalance
        self._restoring = asyncio.Lock()
        self._generation = 0  # a restore that a rebalance overtook must not mark its partition current
        # Written to the changelog, not yet to the local copy (which is written now and then, not every batch:
        # a crash loses only what the changelog still has, read again from the copy's position at the restore).
        self._unflushed: dict[int, dict[bytes, StateWrite]] = {}
        self._unflushed_ids: set[str] = set()
        self._flushed_at = time.monotonic()

    # -- ownership, told by the consumer group ---------------------------------------------------------------

    def revoke(self) -> None:
        """A rebalance took the partitions away (after the batches in flight finished): nothing is served until a
        partition is restored again, since another worker may write it in the meantime."""
        self._current.clear()
        self._generation += 1

    def assign(self, partitions: Iterable[int]) -> None:
        """The partitions this worker owns from now on; any other partition's states are forgotten. faust says so
        at the end of the rebalance, and the first batches of the new assignment may already have restored their
        partitions: those stay current (the revocation before it is what made every partition stale)."""
        self.owned = set(partitions)
        for partition in set(self._partitions) - self.owned:
            del self._partitions[partition]
            del self._positions[partition]
            self._current.discard(partition)

    # -- restore ---------------------------------------------------------------------------------------------

    def is_restored(self, partition: int) -> bool:
        return partition in self._current

    def restored_partitions(self) -> list[int]:
        return sorted(self._current)

    async def restore(self, partitions: Iterable[int]) -> None:
        """Make sure every one of `partitions` is current with its changelog's true end."""
        wanted = set(partitions)
        while not wanted <= self._current:  # a rebalance during a restore leaves it to be done again
            async with self._restoring:
                missing = sorted(wanted - self._current)
                if missing:
                    await self._restore(missing)

    async def _restore(self, partitions: list[int]) -> None:
        generation = self._generation
        await self.flush()  # the local copy must hold this worker's own writes before it moves past them
        starts: dict[int, tuple[dict[bytes, bytes], int]] = {}
        for partition in partitions:
            if partition in self._partitions:  # kept over a rebalance: read only what was written since
                starts[partition] = (self._partitions[partition], self._positions[partition])
            else:
                starts[partition] = await asyncio.to_thread(self.store.load_partition, self.stage, partition)
        read = await self.reader.read(self.changelog_topic, {p: position for p, (_, position) in starts.items()})
        for partition, (states, position) in starts.items():
            records, end = read[partition]
            if end < position:  # the broker's log began anew (the embedded broker forgets it when it stops)
                log.warning(
                    "%s: changelog %s[%d] ends at %d, before the %d read here: the log was reset; keeping local states",
                    self.stage,
                    self.changelog_topic,
                    partition,
                    end,
                    position,
                )
                records = []
            writes = [StateWrite(key, value, applied_ids_of(value)) for _, key, value in records]
            for write in writes:
                states[write.key] = write.value
            await asyncio.to_thread(self.store.apply_changelog, self.stage, partition, writes, end)
            self._positions[partition] = end
            self._partitions[partition] = states
            if generation == self._generation:
                self._current.add(partition)
            if records:
                log.info("%s: read %d changelog records of partition %d", self.stage, len(records), partition)

    # -- reads and writes ------------------------------------------------------------------------------------

    def get(self, partition: int, key: bytes) -> bytes | None:
        states = self._partitions.get(partition)
        if states is None or partition not in self._current:
            raise LookupError(f"{self.stage}: partition {partition} is not restored; restore it before use")
        return states.get(key)

    def items(self, partition: int) -> list[tuple[bytes, bytes]]:
        return list(self._partitions.get(partition, {}).items())

    def applied(self, event_ids: list[str]) -> set[str]:
        if not event_ids:
            return set()
        recent = self._unflushed_ids.intersection(event_ids)
        older = [event_id for event_id in event_ids if event_id not in recent]
        return recent | self.store.applied(self.stage, older) if older else recent

    async def saved(self, writes: dict[int, list[StateWrite]], landed: dict[int, Written | None]) -> None:
        """Keep what was just written to the changelog (and acknowledged) in memory, and in the local copy soon."""
        for partition, partition_writes in writes.items():
            states = self._partitions.get(partition)
            if states is not None:
                for write in partition_writes:
                    states[write.key] = write.value
            where = landed.get(partition)
            position = self._positions.get(partition)
            # The local copy reaches past these records only if nobody wrote between them and what it had read.
            if where is not None and position is not None and where.first_offset == position:
                self._positions[partition] = where.first_offset + where.count
            pending = self._unflushed.setdefault(partition, {})
            for write in partition_writes:
                earlier = pending.get(write.key)
                ids = (*earlier.applied_ids, *write.applied_ids) if earlier else write.applied_ids
                pending[write.key] = StateWrite(write.key, write.value, ids)
                self._unflushed_ids.update(write.applied_ids)
        if time.monotonic() - self._flushed_at >= FLUSH_EVERY_S or len(self._unflushed_ids) >= FLUSH_IDS:
            await self.flush()

    async def flush(self) -> None:
        """Write what the changelog has and the local copy has not yet, with how far the copy now goes."""
        if not self._unflushed:
            return
        unflushed, self._unflushed, self._unflushed_ids = self._unflushed, {}, set()
        self._flushed_at = time.monotonic()
        for partition, pending in unflushed.items():
            position = self._positions.get(partition)
            await asyncio.to_thread(self.store.save, self.stage, partition, list(pending.values()), position)
