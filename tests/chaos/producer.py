"""A foreign client on the topics: librdkafka (confluent-kafka), partitioning as the README tells outsiders to."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import confluent_kafka

Where = tuple[str, int, int]  # topic, partition, offset


class DeliveryFailed(RuntimeError):
    """The broker did not take a record: the run cannot say what the pipeline did with it."""


@dataclass
class ForeignProducer:
    """librdkafka with `partitioner=murmur2_random` (the Java client's murmur2 for keyed records). Remembers where
    each tagged record landed, from the delivery reports."""

    bootstrap: str
    client_id: str = "oms-chaos-librdkafka"
    landed: dict[str, Where] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _producer: confluent_kafka.Producer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._producer = confluent_kafka.Producer(
            {
                "bootstrap.servers": self.bootstrap,
                "client.id": self.client_id,
                "partitioner": "murmur2_random",
                "linger.ms": 5,
                "enable.idempotence": False,  # the embedded broker has no InitProducerId
                "message.max.bytes": 2_000_000,
            }
        )

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        tag: str | None = None,
        partition: int | None = None,
        headers: list[tuple[str, str | bytes | None]] | None = None,
    ) -> None:
        """Queue one record (on `partition`, else by the partitioner); `tag` names it in `landed`."""
        on_delivery = self._reported(tag)
        if partition is None:
            self._producer.produce(topic, value=value, key=key, headers=headers, on_delivery=on_delivery)
        else:
            self._producer.produce(topic, value, key, partition, on_delivery=on_delivery, headers=headers)
        self._producer.poll(0)

    def flush(self, timeout_s: float = 60.0) -> None:
        left = self._producer.flush(timeout_s)
        if left or self.failures:
            raise DeliveryFailed(f"{left} records undelivered after {timeout_s:.0f} s; failures: {self.failures[:5]}")

    def _reported(
        self, tag: str | None
    ) -> Callable[[confluent_kafka.KafkaError | None, confluent_kafka.Message], None]:
        def on_delivery(error: confluent_kafka.KafkaError | None, message: confluent_kafka.Message) -> None:
            with self._lock:
                if error is not None:
                    self.failures.append(f"{tag}: {error}")
                elif tag is not None:
                    self.landed[tag] = (str(message.topic()), int(message.partition() or 0), int(message.offset() or 0))

        return on_delivery
