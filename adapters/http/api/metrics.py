"""Prometheus metrics of one API app, in its own registry (so tests can build many apps)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

from events import Event

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ApiMetrics:
    """Counters the API feeds itself, and gauges the composition root feeds (`set_*`)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "oms_api_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._published = Counter(
            "oms_events_published", "Events published by the API, by type.", ["type"], registry=self.registry
        )
        self._deadlettered = Gauge(
            "oms_deadlettered_events", "Events recorded on the dead-letter topic.", registry=self.registry
        )
        self._lag = Gauge(
            "oms_consumer_lag", "Messages a projection is behind the log end.", ["projection"], registry=self.registry
        )

    def observe_request(self, method: str, route: str, status: int) -> None:
        self._requests.labels(method=method, route=route, status=str(status)).inc()

    def count_published(self, events: Iterable[Event[Any]]) -> None:
        for event in events:
            self._published.labels(type=event.type).inc()

    def set_deadlettered(self, count: int) -> None:
        self._deadlettered.set(count)

    def set_consumer_lag(self, projection: str, lag: int) -> None:
        self._lag.labels(projection=projection).set(lag)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
