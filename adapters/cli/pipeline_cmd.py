"""`oms worker`: run the stream processors."""

from __future__ import annotations

import asyncio
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
    from adapters.bootstrap import bootstrap_pipeline, ensure_pipeline_topics, pipeline_config, quiet_faust_worker
    from adapters.runtime import tune_gc

    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    with kafka_bootstrap(bootstrap or settings.kafka_bootstrap, port=settings.broker_port) as servers:
        asyncio.run(ensure_pipeline_topics(pipeline_config(settings, servers), settings.replication_factor))
        asyncio.set_event_loop(asyncio.new_event_loop())
        app = bootstrap_pipeline(settings, servers)
        typer.echo(f"pipeline worker on {servers} (app {app.conf.id})", err=True)
        worker = quiet_faust_worker(app, loglevel)
        tune_gc()
        worker.execute_from_commandline()
