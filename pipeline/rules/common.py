"""What every pure rule shares: the decision it returns, its domain error and its state base class."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict

from events import Event, EventData, caused_by
from events.changes import RefusalCode

S = TypeVar("S")


class Rejected(Exception):
    """The event cannot be applied. The message says why, in words a person can act on."""


class Refused(Exception):
    """A request the rule turns down: it answers with a refusal event and leaves the state as it was.

    Unlike `Rejected` (input that makes no sense, dead-lettered), a refusal is a decision the views show."""

    def __init__(self, code: RefusalCode, reason: str) -> None:
        super().__init__(reason)
        self.code: RefusalCode = code
        self.reason = reason


@dataclass(frozen=True)
class Decision(Generic[S]):
    """The new state of one key and the events to emit, in order."""

    state: S | None
    emitted: tuple[Event[EventData], ...] = ()


class RuleState(BaseModel):
    """Base of a rule's per-key state: frozen, and round-trips through JSON for the processor's table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes | str) -> Self:
        return cls.model_validate_json(raw)


Output = tuple[str, EventData]
Outputs = tuple[Output, ...]
"""What a rule wants to emit, as (step, data) pairs: the step makes each output's id unique and stable."""


def decision(cause: Event[EventData], state: S | None, outputs: Outputs, *, source: str, now: datetime) -> Decision[S]:
    """The decision that moves to `state` and emits `outputs` as events caused by `cause`."""
    return Decision(state, tuple(emit(cause, step, data, source=source, now=now) for step, data in outputs))


def emit(cause: Event[EventData], step: str, data: EventData, *, source: str, now: datetime) -> Event[EventData]:
    """An output of `cause`. `step` must be unique among the outputs of one input: it derives the id."""
    return caused_by(cause, step, data, source=source, time=now)


def unchanged(state: S | None) -> Decision[S]:
    """The decision for an event the rule does not act on."""
    return Decision(state, ())


def remember(kept: tuple[str, ...], item: str, limit: int) -> tuple[str, ...]:
    """`kept` plus `item`, keeping only the newest `limit` entries (a bounded memory of ids)."""
    if item in kept:
        return kept
    return (*kept, item)[-limit:]
