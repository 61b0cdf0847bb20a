"""`oms broker`: run the embedded Kafka-protocol broker in the foreground."""

from __future__ import annotations

import signal
import threading

import typer

from adapters.kafka.broker import EmbeddedBroker


def register(app: typer.Typer) -> None:
    app.command("broker")(broker)


def broker(
    port: int = typer.Option(9092, "--port", "-p", help="Port to listen on (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on and advertise."),
) -> None:
    """Run the embedded broker (tansu, in memory) until Ctrl-C."""
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    with EmbeddedBroker(host=host, port=port) as running:
        typer.echo(f"embedded broker ready at {running.bootstrap} (memory storage; Ctrl-C stops it)")
        stopped.wait()
    typer.echo("broker stopped")
