"""The one Kafka address every runtime is built against: the settings' own, never a default of its own."""

from __future__ import annotations

from adapters.settings import Settings


class NoKafkaConfigured(Exception):
    """A runtime was asked for without a Kafka to talk to: start one (the CLI's embedded broker) or set it."""


def kafka_servers(settings: Settings, bootstrap: str | None = None) -> str:
    """`bootstrap` when given, else the settings' Kafka; refused when there is neither."""
    servers = bootstrap or settings.kafka_bootstrap
    if not servers:
        raise NoKafkaConfigured(
            "no Kafka to talk to: set OMS_KAFKA_BOOTSTRAP or pass --bootstrap HOST:PORT "
            "(the `oms` commands that need one start the embedded broker when it is unset)"
        )
    return servers
