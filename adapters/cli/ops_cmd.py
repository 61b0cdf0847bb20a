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
    from adapters.bootstrap.api import build_api

    settings = Settings()
    settings = settings.model_copy(
        update={"api_host": host or settings.api_host, "api_port": port or settings.api_port}
    )
    reason = cannot_listen(settings.api_host, settings.api_port)
    if reason:
        raise SetupError(
            f"cannot listen on {settings.api_host}:{settings.api_port} ({reason}): "
            "pass --port or set OMS_API_PORT to a free port"
        )
    logging.basicConfig(level=settings.log_level)
    with kafka_bootstrap(bootstrap or settings.kafka_bootstrap, port=settings.broker_port) as servers:
        server = build_api(settings.model_copy(update={"kafka_bootstrap": servers}))
        typer.echo(f"OMS API on {server.url} (broker {servers})", err=True)
        asyncio.run(server.serve())
