"""`oms api`: serve the HTTP API with uvicorn."""

from __future__ import annotations

import asyncio
import logging

import typer

from adapters.cli.errors import SetupError
from adapters.kafka.broker import cannot_listen, kafka_bootstrap
from adapters.settings import Settings


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("api")(api)


def api(
    port: int | None = typer.Option(None, "--port", "-p", help="Port to listen on (default: OMS_API_PORT, 8000)."),
    host: str | None = typer.Option(None, "--host", help="Address to listen on (default: OMS_API_HOST, 127.0.0.1)."),
    bootstrap: str | None = typer.Option(
        None, "--bootstrap", help="Kafka bootstrap servers (default: OMS_KAFKA_BOOTSTRAP, else an embedded broker)."
    ),
) -> None:
    """Serve the HTTP API (intake, ops actions, reads, tracking, /metrics) until Ctrl-C."""
    settings = Settings()
    host, port = host or settings.api_host, port or settings.api_port
    reason = cannot_listen(host, port)
    if reason:
        raise SetupError(f"cannot listen on {host}:{port} ({reason}): pass --port or set OMS_API_PORT to a free port")
    logging.basicConfig(level=settings.log_level)
    with kafka_bootstrap(bootstrap or settings.kafka_bootstrap, port=settings.broker_port) as servers:
        settings = settings.model_copy(update={"kafka_bootstrap": servers})
        asyncio.run(_serve(settings, host, port))


async def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from adapters.http.api import create_app
    from adapters.http.api.monitor import Monitor
    from adapters.http.api.sql_read_model import SqlReadModel
    from adapters.kafka.admin import ensure_topics, public_topic_names
    from adapters.kafka.publisher import KafkaPublisher
    from adapters.sql.desk import SqlDesk
    from adapters.sql.engines import views_engine

    assert settings.kafka_bootstrap is not None
    await ensure_topics(
        settings.kafka_bootstrap,
        public_topic_names(settings.topic_prefix),
        settings.partitions,
        settings.replication_factor,
    )
    publisher = KafkaPublisher(settings.kafka_bootstrap, settings.topic)
    views = views_engine(settings)  # the views `oms project` writes, under the same OMS_DATABASE_URL / OMS_DATA_DIR
    await publisher.start()
    try:
        monitor = Monitor(settings.kafka_bootstrap, settings.topic_prefix, settings.topic(settings.pipeline_app), views)
        app = create_app(settings, publisher, read_model=SqlReadModel(views), desk=SqlDesk(views), monitor=monitor)
        typer.echo(f"OMS API on http://{host}:{port} (broker {settings.kafka_bootstrap})", err=True)
        await uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=settings.log_level.lower())).serve()
    finally:
        await publisher.stop()
        views.dispose()
