"""`oms webhooks add|list|log|attempts|redeliver|pause|resume|remove` and `oms deliver`: outbound webhooks.

The subscriptions and the delivery log live in the views database (OMS_DATABASE_URL, or SQLite under
OMS_DATA_DIR); `oms deliver` sends what they ask for.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from adapters.cli.errors import SetupError
from adapters.settings import Settings
from adapters.sql.webhook_tables import ACTIVE, DELIVERED, FAILED, PAUSED, PENDING, REMOVED
from adapters.sql.webhooks import BadSubscription, Subscription, WebhookStore

console = Console()
webhooks_app = typer.Typer(
    help="Outbound webhooks: subscriptions, their delivery log, redelivery.", no_args_is_help=True
)
SUBSCRIPTION_COLUMNS = ("subscription_id", "status", "url", "event_types", "failures_in_a_row", "created_at")
SHOWN_LOG_COLUMNS = ("delivery_id", "event_type", "ordering_key", "status", "attempts", "response_code", "latency_ms")


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(webhooks_app, name="webhooks")
    for name, command in (
        ("add", add_cmd),
        ("list", list_cmd),
        ("log", log_cmd),
        ("attempts", attempts_cmd),
        ("redeliver", redeliver_cmd),
        ("pause", pause_cmd),
        ("resume", resume_cmd),
        ("remove", remove_cmd),
    ):
        webhooks_app.command(name)(command)
    app.command("deliver")(deliver_cmd)


def _store() -> WebhookStore:
    return WebhookStore.from_url(Settings().views_url)


def add_cmd(
    url: str = typer.Argument(..., help="Where to POST the events (http:// or https://)."),
    event_types: list[str] = typer.Option(
        ..., "--event-type", "-e", help="A type (oms.order.paid), a prefix (oms.order.*) or * (repeatable)."
    ),
    secret: str | None = typer.Option(
        None, "--secret", envvar="OMS_WEBHOOK_SECRET", help="whsec_<base64>; unset: one is made and shown once."
    ),
    description: str = typer.Option("", "--description", help="Who this is for."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Subscribe a URL to event types. The signing secret is printed once: give it to the subscriber."""
    try:
        subscription = _store().subscribe(url, event_types, secret, description)
    except BadSubscription as refused:
        raise typer.BadParameter(f"{refused.field}: {refused}") from None
    if as_json:
        _print_json(_public(subscription) | {"secret": subscription.secret})
        return
    typer.echo(f"subscribed {subscription.subscription_id} to {', '.join(subscription.event_types)}")
    typer.echo(f"signing secret (shown once): {subscription.secret}")


def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The subscriptions (not their secrets)."""
    subscriptions = [_public(s) for s in _store().subscriptions()]
    if as_json:
        _print_json(subscriptions)
        return
    console.print(_table("webhook subscriptions", subscriptions, SUBSCRIPTION_COLUMNS))


def log_cmd(
    subscription_id: str = typer.Argument(..., help="The subscription's id."),
    status: str | None = typer.Option(None, "--status", help=f"{PENDING}, {DELIVERED} or {FAILED}."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    offset: int = typer.Option(0, "--offset", min=0),
    as_json: bool = typer.Option(False, "--json", help="Print JSON with every column."),
) -> None:
    """A subscription's delivery log, newest first: status, attempts, response code, latency."""
    store = _store()
    _subscription(store, subscription_id)
    rows, total = store.deliveries(subscription_id, status=status, limit=limit, offset=offset)
    if as_json:
        _print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return
    console.print(
        _table(f"deliveries {offset + 1 if rows else 0}-{offset + len(rows)} of {total}", rows, SHOWN_LOG_COLUMNS)
    )


def attempts_cmd(delivery_id: str = typer.Argument(..., help="The delivery's id (from `oms webhooks log`).")) -> None:
    """Every attempt of one delivery: when, the answer's code, latency, error."""
    rows = _store().attempts(delivery_id)
    console.print(_table(f"attempts of {delivery_id}", rows, ("attempt", "at", "response_code", "latency_ms", "error")))


def redeliver_cmd(
    subscription_id: str = typer.Argument(..., help="The subscription's id."),
    delivery_id: str | None = typer.Option(None, "--delivery", help="Send this one delivery's event again."),
    since: str | None = typer.Option(None, "--since", help="Send again every event of this time or later (ISO 8601)."),
) -> None:
    """Send one delivery again, or every event since a time (same webhook-id: receivers drop what they have)."""
    from adapters.cli.reading import parse_time

    store = _store()
    _subscription(store, subscription_id)
    if (delivery_id is None) == (since is None):
        raise typer.BadParameter("give --delivery ID or --since TIME")
    if delivery_id is not None:
        new = store.redeliver(subscription_id, delivery_id)
        if new is None:
            raise typer.BadParameter(f"no delivery {delivery_id} of {subscription_id}", param_hint="--delivery")
        typer.echo(f"queued {new} (again of {delivery_id})")
        return
    moment = parse_time(since)
    if moment is not None:
        typer.echo(f"queued {len(store.redeliver_since(subscription_id, moment))} deliveries again")


def pause_cmd(subscription_id: str = typer.Argument(...)) -> None:
    """Stop sending to a subscription; its deliveries wait."""
    _set_status(subscription_id, PAUSED)


def resume_cmd(subscription_id: str = typer.Argument(...)) -> None:
    """Send to a paused subscription again, starting with what waited."""
    _set_status(subscription_id, ACTIVE)


def remove_cmd(subscription_id: str = typer.Argument(...)) -> None:
    """End a subscription: no new deliveries; its log stays."""
    _set_status(subscription_id, REMOVED)


def deliver_cmd(
    bootstrap: str | None = typer.Option(
        None, "--bootstrap", help="Kafka bootstrap servers (default: OMS_KAFKA_BOOTSTRAP)."
    ),
    concurrency: int = typer.Option(32, "--concurrency", min=1, max=500, help="Requests in flight at most."),
    metrics_port: int | None = typer.Option(None, "--metrics-port", min=0, max=65535, help="Serve Prometheus metrics."),
) -> None:
    """Deliver the public topics' events to the webhook subscriptions until Ctrl-C (at least once, in order per key)."""
    from prometheus_client import start_http_server

    from adapters.kafka.webhook_deliverer import WebhookDeliverer
    from adapters.outbound.webhook_sender import WebhookSender
    from adapters.sql.engines import engine_for
    from pipeline.rules.webhook_delivery import Backoff

    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    servers = bootstrap or settings.kafka_bootstrap
    if not servers:
        raise SetupError("the deliverer reads the running broker: pass --bootstrap or set OMS_KAFKA_BOOTSTRAP")
    deliverer = WebhookDeliverer(
        engine_for(settings.views_url),
        servers,
        WebhookSender(timeout_s=settings.webhook_timeout_s),
        settings.topic_prefix,
        backoff=Backoff(base_s=settings.webhook_retry_base_s),
        concurrency=concurrency,
        partitions=settings.partitions,
        replication_factor=settings.replication_factor,
    )
    if metrics_port is not None:
        start_http_server(metrics_port, registry=deliverer.metrics.registry)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await deliverer.run(stop)

    console.print(f"delivering webhooks from {servers} (prefix {settings.topic_prefix!r})", style="dim")
    asyncio.run(main())


def _set_status(subscription_id: str, status: str) -> None:
    if not _store().set_status(subscription_id, status):
        console.print(f"[yellow]no subscription {subscription_id}[/]")
        raise typer.Exit(1)
    typer.echo(f"{subscription_id}: {status}")


def _subscription(store: WebhookStore, subscription_id: str) -> Subscription:
    found = store.subscription(subscription_id)
    if found is None:
        console.print(f"[yellow]no subscription {subscription_id}[/]")
        raise typer.Exit(1)
    return found


def _public(subscription: Subscription) -> dict[str, Any]:
    return {name: value for name, value in vars(subscription).items() if name != "secret"}


def _table(title: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row[c]) for c in columns))
    return table


def _print_json(value: Any) -> None:
    typer.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode())
