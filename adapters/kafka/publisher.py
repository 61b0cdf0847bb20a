"""Publishing events: the port the HTTP API consumes, its Kafka implementation and a recording fake."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from events import Event, encode


class PublishFailed(RuntimeError):
    """The broker did not take (and acknowledge) every event; the caller may retry the whole batch."""


class Publisher(Protocol):
    async def publish(self, events: Sequence[Event[Any]]) -> None:
        """Return once every event is acknowledged by the broker; raise `PublishFailed` otherwise."""
        ...


class KafkaPublisher:
    """Each event to `topic_name(event.topic)`, keyed by its subject, acknowledged by all in-sync replicas.

    No idempotent producer: the embedded broker does not support it. A retried publish can duplicate a
    message, which is harmless: event ids are deterministic and every consumer drops duplicates by id.
    """

    def __init__(self, bootstrap: str, topic_name: Callable[[str], str], *, timeout_s: float = 10.0) -> None:
        self._topic_name = topic_name
        self._options: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "client_id": "oms-api",
            "acks": "all",
            "linger_ms": 1,
            "request_timeout_ms": int(timeout_s * 1000),
        }
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Connect. The producer is made here, not in `__init__`: aiokafka binds it to the running loop."""
        self._producer = AIOKafkaProducer(**self._options)
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise PublishFailed("the publisher is not started")
        return self._producer

    async def publish(self, events: Sequence[Event[Any]]) -> None:
        try:
            producer = self._started()
            sent = [
                await producer.send(self._topic_name(event.topic), key=event.subject.encode(), value=encode(event))
                for event in events
            ]
            await asyncio.gather(*sent)
        except KafkaError as exc:
            raise PublishFailed(f"could not publish {len(events)} event(s): {type(exc).__name__}") from exc


@dataclass
class RecordingPublisher:
    """A fake that records what it was asked to publish. `fail` makes the next publishes raise."""

    published: list[Event[Any]] = field(default_factory=list)
    fail: bool = False

    async def publish(self, events: Sequence[Event[Any]]) -> None:
        if self.fail:
            raise PublishFailed("recording publisher told to fail")
        self.published.extend(events)

    def of_type(self, event_type: str) -> list[Event[Any]]:
        return [event for event in self.published if event.type == event_type]
