"""`oms worker`: run the stream processors."""

from __future__ import annotations

import logging

import typer

from adapters.kafka.broker import kafka_bootstrap
from adapters.settings import Settings


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def worker(
    bootstrap: str | None = typer.Option(
        None, "--bootstrap", help="Kafka bootstrap servers (default: OMS_KAFKA_BOOTSTRAP, else an embedded broker)."
    ),
    loglevel: str = typer.Option("warn", "--loglevel", help="crit, error, warn, info or debug."),
) -> None:
    """Run the stream processors (inventory, orders, shipping, notifications) until stopped.

    Start more workers with the same settings to share the partitions through the consumer group.
    """
    from adapters.bootstrap.worker import build_worker

    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    with kafka_bootstrap(bootstrap or settings.kafka_bootstrap, port=settings.broker_port) as servers:
        pipeline = build_worker(settings.model_copy(update={"kafka_bootstrap": servers}))
        typer.echo(f"pipeline worker on {servers} (app {pipeline.config.app_id})", err=True)
        pipeline.run(loglevel)
