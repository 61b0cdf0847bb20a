"""The API's composition: `create_app` takes every dependency as a keyword, so tests pass fakes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request, Response

from adapters.http import dashboard
from adapters.http.api.deps import ApiContext, DeskReads, MetricsSource, ReadinessCheck, ReadModel
from adapters.http.api.errors import install_error_handlers
from adapters.http.api.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, RequestBodyLimits
from adapters.http.api.memory import InMemoryReadModel
from adapters.http.api.metrics import ApiMetrics
from adapters.http.api.ratelimit import TokenBucketLimiter
from adapters.http.api.routes import (
    channels,
    customers,
    deadletters,
    health,
    inventory,
    orders,
    shipments,
    tracking,
    users,
    webhooks,
)
from adapters.http.dashboard import webhooks as dashboard_webhooks
from adapters.kafka.broker import answers_metadata
from adapters.kafka.publisher import Publisher
from adapters.settings import Settings
from adapters.sql.intake import IntakeStore
from adapters.sql.webhooks import WebhookStore
from events import Event, utc_now

log = logging.getLogger(__name__)

DESCRIPTION = f"""Order management over an event log. Channel intake (signed webhooks, POS and CSV uploads),
ops actions (each publishes one event), reads from the projected views, and customer tracking.
Ops endpoints need `Authorization: Bearer <key>` with a key from `OMS_API_KEYS`. Errors are RFC 9457
problem+json. A request body has at most {MAX_BODY_BYTES // 2**20} MiB (413), and JSON nests arrays and objects at
most {MAX_JSON_DEPTH} deep (422)."""


class CountingPublisher:
    """Counts what the wrapped publisher actually published, by event type."""

    def __init__(self, inner: Publisher, metrics: ApiMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def publish(self, events: Sequence[Event[Any]]) -> None:
        await self._inner.publish(events)
        self._metrics.count_published(events)
        log.info("published %s", ", ".join(f"{e.type} {e.subject}" for e in events))


def create_app(
    settings: Settings,
    publisher: Publisher,
    *,
    intake_store: IntakeStore | None = None,
    read_model: ReadModel | None = None,
    readiness: Mapping[str, ReadinessCheck] | None = None,
    tracking_limiter: TokenBucketLimiter | None = None,
    login_limiter: TokenBucketLimiter | None = None,
    account_limiter: TokenBucketLimiter | None = None,
    clock: Callable[[], datetime] = utc_now,
    desk: DeskReads | None = None,
    monitor: MetricsSource | None = None,
    webhook_store: WebhookStore | None = None,
) -> FastAPI:
    """The HTTP API. Defaults: intake store from settings, an empty in-memory read model, readiness
    probing the configured broker and the intake database, 10 tracking lookups per client then 1 per 2 s,
    30 failed dashboard log-ins per client then 1 per 10 s, and 5 per account then 1 per 30 s."""
    metrics = ApiMetrics()
    store = intake_store or IntakeStore.from_settings(settings)
    app = FastAPI(title="OMS API", version="1", description=DESCRIPTION)
    app.state.context = ApiContext(
        settings=settings,
        publisher=CountingPublisher(publisher, metrics),
        intake_store=store,
        read_model=read_model or InMemoryReadModel(),
        metrics=metrics,
        tracking_limiter=tracking_limiter or TokenBucketLimiter(),
        login_limiter=login_limiter or TokenBucketLimiter(burst=30.0, per_second=0.1),
        account_limiter=account_limiter or TokenBucketLimiter(burst=5.0, per_second=1 / 30),
        readiness=readiness if readiness is not None else default_readiness(settings, store),
        clock=clock,
        desk=desk or deadletters.EmptyDesk(),
        monitor=monitor,
        webhooks=webhook_store,
    )
    install_error_handlers(app)
    for module in (channels, orders, inventory, shipments, customers, tracking, deadletters, webhooks, users, health):
        app.include_router(module.router)
    app.include_router(dashboard.router)
    app.include_router(dashboard_webhooks.router)
    app.mount(dashboard.STATIC_URL, dashboard.static_files(), name="dashboard-static")
    app.add_middleware(RequestBodyLimits)
    app.middleware("http")(_count_requests(metrics))  # added last, so it is outside and counts the 413s too
    return app


def default_readiness(settings: Settings, store: IntakeStore) -> dict[str, ReadinessCheck]:
    return {"broker": lambda: broker_answers(settings.kafka_bootstrap), "database": store.is_reachable}


def broker_answers(bootstrap: str | None) -> bool:
    """True when any of the bootstrap servers answers a metadata request."""
    for server in (bootstrap or "").split(","):
        host, _, port = server.strip().rpartition(":")
        if host and port.isdigit() and answers_metadata(host, int(port)):
            return True
    return False


def _count_requests(metrics: ApiMetrics) -> Callable[[Request, Any], Awaitable[Response]]:
    async def count(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.observe_request(request.method, route, response.status_code)
        return response

    return count
