"""The ports the stream processors consume. Concrete carriers and notifiers live in `adapters/`."""

from __future__ import annotations

from dataclasses import dataclass
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


class StateStore(Protocol):
    """Where a processor keeps its per-key state besides the table's changelog. The embedded broker
    forgets its changelogs when it stops; a durable store lets a restarted worker skip what it applied."""

    def load_all(self, table: str) -> dict[bytes, bytes]: ...

    def save_many(self, table: str, items: list[tuple[bytes, bytes]]) -> None: ...


@dataclass(frozen=True)
class OutgoingMessage:
    message_id: str
    recipient: str
    recipient_name: str | None
    subject: str
    body: str
    language: str


class Notifier(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> None:
        """Hand the message over. Should treat a repeated `message_id` as already sent where it can."""
        ...
