"""`oms demo`: the main job on the embedded default."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from adapters.cli.errors import SetupError
from adapters.kafka.broker import cannot_listen, free_port, kafka_bootstrap
from adapters.settings import Settings


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    rate: float = typer.Option(5.0, "--rate", help="Orders per second the simulated channels send."),
    seconds: float | None = typer.Option(None, "--seconds", help="Stop after this long (default: until Ctrl-C)."),
) -> None:
    """Start the broker, processors, projections and API, and send demo traffic from several channels.

    Exit code: 0 stopped as asked, 1 a process of the demo stopped by itself, 2 it could not start (a port taken,
    a setting refused).
    """
    from adapters.bootstrap.demo import build_demo
    from adapters.demo.runner import run_demo

    settings = Settings()
    refuse_taken_ports(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.data_dir / "broker.log"
    with kafka_bootstrap(settings.kafka_bootstrap, port=settings.broker_port, log_path=log_path) as bootstrap:
        demo = build_demo(settings.model_copy(update={"kafka_bootstrap": bootstrap}))
        stopped_as_asked = asyncio.run(run_demo(demo, rate, seconds, Console()))
    if not stopped_as_asked:
        raise typer.Exit(1)


def refuse_taken_ports(settings: Settings) -> None:
    """Before anything starts: the demo's API needs its port, and a fixed broker port must be free too."""
    wanted = [("OMS_API_PORT", settings.api_host, settings.api_port, "the demo's API and dashboard")]
    if not settings.kafka_bootstrap and settings.broker_port:
        wanted.append(("OMS_BROKER_PORT", "127.0.0.1", settings.broker_port, "the embedded broker"))
    for variable, host, port, user in wanted:
        reason = cannot_listen(host, port)
        if reason:
            raise SetupError(
                f"{user} cannot listen on {host}:{port} ({reason}): set {variable} to a free port, "
                f"e.g. {variable}={free_port(host)} ./dev demo"
            )
