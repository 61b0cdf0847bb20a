"""The ports the stream processors consume. Concrete carriers and notifiers live in `adapters/`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from events import ShipmentRequested


@dataclass(frozen=True)
class Booking:
    carrier: str
    tracking_number: str
    tracking_url: str


class CarrierUnavailable(Exception):
    """The carrier could not take the booking now; worth retrying."""


class Carrier(Protocol):
    name: str

    async def book(self, request: ShipmentRequested) -> Booking:
        """Book the shipment. Must be idempotent by `request.shipment_id`."""
        ...


ChangelogRecord = tuple[int, bytes, bytes]  # offset, key, value


class ChangelogReader(Protocol):
    """Reads a changelog partition from an offset to its true end (never the broker's word for the end)."""

    async def read(self, topic: str, starts: dict[int, int]) -> dict[int, tuple[list[ChangelogRecord], int]]:
        """Per partition: every record at or after its start, and its end (the offset the next record will get)."""
        ...


@dataclass(frozen=True)
class StateWrite:
    """One key's new state, with the ids of the events it applied in this write."""

    key: bytes
    value: bytes
    applied_ids: tuple[str, ...]


class LocalStateStore(Protocol):
    """A stage's durable copy of its changelog on this machine: per-key states, every applied event id, and how
    far into each changelog partition the copy goes. The changelog stays the truth; this copy makes a restart or a
    rebalance read only what changed, and keeps the ids of every event a stage applied, however old."""

    def load_partition(self, stage: str, partition: int) -> tuple[dict[bytes, bytes], int]:
        """The partition's states and the changelog offset the copy has reached."""
        ...

    def apply_changelog(self, stage: str, partition: int, writes: list[StateWrite], position: int) -> None:
        """Records read from the changelog, up to `position`: states replace older ones, ids are added."""
        ...

    def save(self, stage: str, partition: int, writes: list[StateWrite], position: int | None) -> None:
        """This worker's own writes, once on the changelog; `position` moves only when they were contiguous."""
        ...

    def applied(self, stage: str, event_ids: list[str]) -> set[str]:
        """Which of `event_ids` this stage has applied before."""
        ...


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to a customer. `message_id` and `date` come from the request it answers, so a message
    sent again (a retry, a re-processed request) is the same message: mail systems can drop the repeat."""

    message_id: str
    recipient: str
    recipient_name: str | None
    subject: str
    body: str
    language: str
    date: datetime


class Notifier(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> None:
        """Hand the message over. Should treat a repeated `message_id` as already sent where it can."""
        ...
