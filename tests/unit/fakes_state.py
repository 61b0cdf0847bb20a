"""In-memory stand-ins for the stages' local store and changelog reader, recording what they were asked."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.ports import ChangelogRecord, StateWrite


@dataclass
class FakeLocalStore:
    states: dict[tuple[str, int], dict[bytes, bytes]] = field(default_factory=dict)
    ids: dict[str, set[str]] = field(default_factory=dict)
    positions: dict[tuple[str, int], int] = field(default_factory=dict)
    loads: list[tuple[str, int]] = field(default_factory=list)

    def load_partition(self, stage: str, partition: int) -> tuple[dict[bytes, bytes], int]:
        self.loads.append((stage, partition))
        return dict(self.states.get((stage, partition), {})), self.positions.get((stage, partition), 0)

    def apply_changelog(self, stage: str, partition: int, writes: list[StateWrite], position: int) -> None:
        self.save(stage, partition, writes, position)

    def save(self, stage: str, partition: int, writes: list[StateWrite], position: int | None) -> None:
        states = self.states.setdefault((stage, partition), {})
        for write in writes:
            states[write.key] = write.value
            self.ids.setdefault(stage, set()).update(write.applied_ids)
        if position is not None:
            self.positions[(stage, partition)] = position

    def applied(self, stage: str, event_ids: list[str]) -> set[str]:
        return set(event_ids) & self.ids.get(stage, set())


@dataclass
class FakeChangelog:
    """A changelog per partition; `read` answers from any start to the end, as the real reader does."""

    records: dict[int, list[tuple[bytes, bytes]]] = field(default_factory=dict)
    reads: list[dict[int, int]] = field(default_factory=list)

    def append(self, partition: int, key: bytes, value: bytes) -> int:
        log = self.records.setdefault(partition, [])
        log.append((key, value))
        return len(log) - 1

    async def read(self, topic: str, starts: dict[int, int]) -> dict[int, tuple[list[ChangelogRecord], int]]:
        self.reads.append(dict(starts))
        answer = {}
        for partition, start in starts.items():
            log = self.records.get(partition, [])
            answer[partition] = ([(n, k, v) for n, (k, v) in enumerate(log) if n >= start], len(log))
        return answer
