"""`oms demo`: the main job on the embedded default."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from adapters.broker import kafka_bootstrap
from adapters.settings import Settings


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    rate: float = typer.Option(5.0, "--rate", help="Orders per second the simulated channels send."),
    seconds: float | None = typer.Option(None, "--seconds", help="Stop after this long (default: until Ctrl-C)."),
) -> None:
    """Start the broker, processors, projections and API, and send demo traffic from several channels."""
    from adapters.demo.runner import run_demo

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.data_dir / "broker.log"
    with kafka_bootstrap(settings.kafka_bootstrap, port=settings.broker_port, log_path=log_path) as bootstrap:
        asyncio.run(run_demo(settings, bootstrap, rate, seconds, Console()))
