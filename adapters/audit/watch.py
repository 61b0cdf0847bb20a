"""`oms check --watch`: audit again and again, and export the findings as Prometheus metrics.

A run that fails (broker gone, database locked) leaves the gauges of the last good run as they were and
counts a failed run; `oms_check_last_run_timestamp_seconds` then stops moving, which is what to alert on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest, start_http_server

from adapters.audit.findings import INVARIANTS
from adapters.audit.report import AuditReport

log = logging.getLogger(__name__)


class CheckMetrics:
    """The auditor's metrics, in their own registry (so a test can build several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._violations = Gauge(
            "oms_check_violations",
            "Violations found by the last audit, per invariant.",
            ["invariant"],
            registry=self.registry,
        )
        self._last_run = Gauge(
            "oms_check_last_run_timestamp_seconds", "When the last audit finished (Unix time).", registry=self.registry
        )
        self._duration = Gauge(
            "oms_check_last_run_duration_seconds", "How long the last audit took.", registry=self.registry
        )
        self._records = Gauge("oms_check_records_read", "Records the last audit read.", registry=self.registry)
        self._runs = Counter(
            "oms_check_runs",
            "Audits run, by outcome: clean, violations or failed.",
            ["outcome"],
            registry=self.registry,
        )
        for invariant in INVARIANTS:
            self._violations.labels(invariant=invariant).set(0)

    def record(self, report: AuditReport) -> None:
        for invariant, count in report.counts().items():
            self._violations.labels(invariant=invariant).set(count)
        self._last_run.set(report.checked_at.timestamp() + report.duration_s)
        self._duration.set(report.duration_s)
        self._records.set(report.records_read)
        self._runs.labels(outcome="clean" if report.is_clean else "violations").inc()

    def record_failure(self) -> None:
        self._runs.labels(outcome="failed").inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def serve(self, port: int, host: str = "127.0.0.1") -> tuple[WSGIServer, threading.Thread]:
        """Serve `/metrics` on `host:port` from a daemon thread; `shutdown()` the server to stop it."""
        return start_http_server(port, addr=host, registry=self.registry)


def is_cancelling() -> bool:
    """True when the running task has been asked to stop (a CancelledError raised inside an audit is not that)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def watch(
    audit: Callable[[], Awaitable[AuditReport]],
    metrics: CheckMetrics,
    stop: asyncio.Event,
    *,
    interval_s: float,
    on_report: Callable[[AuditReport], None],
    on_failure: Callable[[BaseException], None],
) -> int:
    """Audit every `interval_s` until `stop` is set; return how many runs were made."""
    runs = 0
    while not stop.is_set():
        try:
            report = await audit()
        except (Exception, asyncio.CancelledError) as error:  # a watcher outlives a broker or database hiccup
            if is_cancelling():
                raise  # the watcher itself is being stopped, not an audit that failed
            log.warning("audit failed: %s", error)
            metrics.record_failure()
            on_failure(error)
        else:
            metrics.record(report)
            on_report(report)
        runs += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
    return runs
