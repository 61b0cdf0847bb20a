"""`oms project`: run the projections (views and history archive) against Kafka, exactly-once into SQL."""

from __future__ import annotations

import typer
from rich.console import Console

from adapters.settings import Settings

console = Console()


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("project")(project)


def project(
    bootstrap: str | None = typer.Option(
        None, "--bootstrap", help="Kafka bootstrap servers (default: OMS_KAFKA_BOOTSTRAP)."
    ),
    only: list[str] = typer.Option(
        [], "--only", help="Run only these projections: orders, inventory, archive, desk (repeatable)."
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, help="Most messages applied per transaction (default: 500)."
    ),
    until_caught_up: bool = typer.Option(
        False, "--until-caught-up", help="Exit once every partition is applied up to its end at start."
    ),
    group: str | None = typer.Option(
        None,
        "--group",
        help="Consumer group (default: the job's, e.g. order_projector); a new one rebuilds from Kafka.",
    ),
    reconcile_every: float | None = typer.Option(
        None,
        "--reconcile-every",
        min=1.0,
        help="Every SECONDS, compare each view with a rebuild from the archive up to its positions; the count of "
        "differences is on /metrics (oms_view_differences).",
    ),
    pause_in_transaction: float = typer.Option(0.0, "--pause-in-transaction", hidden=True),
) -> None:
    """Run the projections (views and history archive) until Ctrl-C: exactly-once into SQL."""
    from adapters.bootstrap.projector import DEFAULT_PROJECTIONS, build_projector

    settings = Settings()
    servers = bootstrap or settings.kafka_bootstrap
    if not servers:
        console.print(
            "[red]no Kafka to read from:[/] set OMS_KAFKA_BOOTSTRAP or pass --bootstrap HOST:PORT "
            "(`oms demo` runs the projections against the embedded broker)."
        )
        raise typer.Exit(2)
    names = only or list(DEFAULT_PROJECTIONS)
    unknown = [name for name in names if name not in DEFAULT_PROJECTIONS]
    if unknown:
        raise typer.BadParameter(f"unknown projection(s) {', '.join(unknown)}; one of {DEFAULT_PROJECTIONS}")
    projector = build_projector(
        settings.model_copy(update={"kafka_bootstrap": servers}),
        names,
        group=group,
        batch_size=batch_size,
        pause_in_transaction_s=pause_in_transaction,
        reconcile_every_s=reconcile_every,
    )
    console.print(f"projecting {', '.join(names)} from {servers} (prefix {settings.topic_prefix!r})", style="dim")
    projector.run_until_signalled(until_caught_up=until_caught_up)
    console.print(f"applied {projector.applied} events", style="dim")
