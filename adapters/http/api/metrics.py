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
            "oms_deadlettered_events", "Dead letters on the exceptions desk (all of them).", registry=self.registry
        )
        self.deadletters = Gauge(
            "oms_deadletters", "Dead letters by the processor that wrote them and their kind.", ["processor", "kind"],
            registry=self.registry,
        )  # fmt: skip
        self.desk_items = Gauge(
            "oms_desk_items", "Exceptions desk items by category and status.", ["category", "status"],
            registry=self.registry,
        )  # fmt: skip
        self._lag = Gauge(
            "oms_consumer_lag", "Records a consumer group (or a projection, by the offsets its database tracks) is "
            "behind the log end, per partition.", ["group", "topic", "partition"], registry=self.registry,
        )  # fmt: skip
        self.consumer_offset = Gauge(
            "oms_consumer_offset", "The next offset a consumer group (or a projection) takes, per partition: its "
            "rate is the reader's throughput.", ["group", "topic", "partition"], registry=self.registry,
        )  # fmt: skip
        self.stage_consumed = Gauge(
            "oms_stage_consumed_records", "Records a pipeline stage has committed past, over the topics it reads: "
            "rate() is its throughput.", ["stage"], registry=self.registry,
        )  # fmt: skip
        self.projector_lag_events = Gauge(
            "oms_projector_lag_events", "Records a projection has not applied yet.", ["projection"],
            registry=self.registry,
        )  # fmt: skip
        self.projector_lag_seconds = Gauge(
            "oms_projector_lag_seconds", "Age of the oldest record a projection has not applied yet (0: caught up).",
            ["projection"], registry=self.registry,
        )  # fmt: skip
        self.webhook_subscriptions = Gauge(
            "oms_webhook_subscriptions", "Webhook subscriptions by status (paused: failing, or paused by a person).",
            ["status"], registry=self.registry,
        )  # fmt: skip
        self.webhook_deliveries_waiting = Gauge(
            "oms_webhook_deliveries_waiting", "Webhook deliveries not delivered: pending (first try or retry due) "
            "or failed (given up after 24 h).", ["status"], registry=self.registry,
        )  # fmt: skip
        self.view_differences = Gauge(
            "oms_view_differences", "Rows a view differed by from its rebuild from the archive at the latest scheduled "
            "reconcile (`oms project --reconcile-every`).", ["projection"], registry=self.registry,
        )  # fmt: skip
        self.monitor_errors = Counter(
            "oms_monitor_errors", "Scrapes whose broker or database figures could not be read.", ["source"],
            registry=self.registry,
        )  # fmt: skip

    def observe_request(self, method: str, route: str, status: int) -> None:
        self._requests.labels(method=method, route=route, status=str(status)).inc()

    def count_published(self, events: Iterable[Event[Any]]) -> None:
        for event in events:
            self._published.labels(type=event.type).inc()

    def set_deadlettered(self, count: int) -> None:
        self._deadlettered.set(count)

    def set_consumer_lag(self, group: str, topic: str, partition: int, lag: int) -> None:
        self._lag.labels(group=group, topic=topic, partition=str(partition)).set(lag)

    def clear_lags(self) -> None:
        """Forget every per-partition figure (a group or a partition that went away must not linger)."""
        for gauge in (self._lag, self.consumer_offset, self.stage_consumed):
            gauge.clear()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
