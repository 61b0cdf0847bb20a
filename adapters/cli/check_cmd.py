"""`oms check`: audit the live log and the views against the system's invariants, once or continuously."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, make_url

from adapters.audit.findings import INVARIANTS, Violation
from adapters.audit.log import AuditTopics
from adapters.audit.report import DEFAULT_GRACE, AuditReport, run_audit
from adapters.audit.watch import CheckMetrics, watch
from adapters.settings import Settings
from adapters.sql.engines import engine_for

console = Console()
errors = Console(stderr=True)

EXIT_VIOLATIONS = 1
EXIT_UNUSABLE = 2
EXIT_FAILED = 3


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def check(
    bootstrap: str | None = typer.Option(
        None, "--bootstrap", help="Kafka bootstrap servers (default: OMS_KAFKA_BOOTSTRAP)."
    ),
    grace: float = typer.Option(
        DEFAULT_GRACE.total_seconds(),
        "--grace",
        min=0,
        help="Seconds a placed order may wait for its decision before it counts as undecided.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON (every violation)."),
    limit: int = typer.Option(20, "--limit", min=1, help="Violations printed per invariant (JSON prints all)."),
    watch_mode: bool = typer.Option(False, "--watch", help="Audit every --interval seconds until Ctrl-C."),
    interval: float = typer.Option(30.0, "--interval", min=0.1, help="Seconds between audits with --watch."),
    metrics_port: int | None = typer.Option(
        None, "--metrics-port", min=0, max=65535, help="With --watch: serve Prometheus metrics on this port."
    ),
    metrics_host: str = typer.Option("127.0.0.1", "--metrics-host", help="Address the metrics are served on."),
    timeout: float = typer.Option(60.0, "--timeout", min=1, help="Seconds allowed to read the topics to their end."),
) -> None:
    """Check the log and the views: every order decided, stock in bounds, no effect twice, no cancelled
    order shipped, every parcel asked for dispatched and every dispatch applied, no changelog going back, every
    view row equal to the fold of the log.

    Exit code: 0 clean, 1 violations found, 2 nothing to check (no Kafka configured), 3 the audit failed.
    """
    settings = Settings()
    servers = bootstrap or settings.kafka_bootstrap
    if not servers:
        errors.print(
            "[red]no Kafka to audit:[/] set OMS_KAFKA_BOOTSTRAP or pass --bootstrap HOST:PORT "
            "(the embedded broker keeps its log in memory, so a new one would be empty)."
        )
        raise typer.Exit(EXIT_UNUSABLE)
    topics = AuditTopics(settings.topic_prefix, settings.pipeline_app)
    views = existing_views(settings.views_url)

    async def audit() -> AuditReport:
        return await run_audit(
            bootstrap=servers, views=views, audit_topics=topics, grace=timedelta(seconds=grace), timeout_s=timeout
        )

    try:
        if watch_mode:
            asyncio.run(_watch(audit, interval, metrics_port, metrics_host, as_json))
        else:
            _audit_once(audit, topics, as_json, limit)
    finally:
        if views is not None:
            views.dispose()


def _audit_once(
    audit: Callable[[], Coroutine[Any, Any, AuditReport]], topics: AuditTopics, as_json: bool, limit: int
) -> None:
    try:
        report = asyncio.run(audit())
    except (Exception, asyncio.CancelledError) as error:  # the audit could not be made: say so, distinctly
        # from "violations found". A CancelledError is no Exception, and one raised inside the audit (aiokafka's
        # stop() re-raises its cancelled tasks') would otherwise end the command with Python's exit code 1.
        # Ctrl-C is not one: asyncio.run turns it into KeyboardInterrupt.
        errors.print(f"[red]audit failed:[/] {type(error).__name__}: {error}")
        raise typer.Exit(EXIT_FAILED) from None
    if as_json:
        typer.echo(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        print_report(report, topics, limit)
    if not report.is_clean:
        raise typer.Exit(EXIT_VIOLATIONS)


def existing_views(url: str) -> Engine | None:
    """The views database, unless it is a SQLite file that does not exist (an auditor creates nothing)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        return None
    return engine_for(url)


async def _watch(
    audit: Callable[[], Awaitable[AuditReport]], interval: float, port: int | None, host: str, as_json: bool
) -> None:
    metrics = CheckMetrics()
    server = metrics.serve(port, host)[0] if port is not None else None
    if server is not None:  # (on stderr: with --json, stdout is one report per line)
        errors.print(f"metrics on http://{host}:{server.server_port}/metrics", style="dim")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def on_report(report: AuditReport) -> None:
        if as_json:
            typer.echo(orjson.dumps(report.as_dict()).decode())
        else:
            console.print(summary_line(report))

    def on_failure(error: BaseException) -> None:
        errors.print(f"[red]audit failed:[/] {type(error).__name__}: {error}")

    try:
        await watch(audit, metrics, stop, interval_s=interval, on_report=on_report, on_failure=on_failure)
    finally:
        if server is not None:
            server.shutdown()


# --- human output ---------------------------------------------------------------------------


def summary_line(report: AuditReport) -> str:
    when = report.checked_at.strftime("%Y-%m-%d %H:%M:%S")
    took = f"{report.records_read} records in {report.duration_s:.2f} s"
    if report.is_clean:
        return f"{when} [green]clean[/] ({took})"
    found = ", ".join(f"{name} {count}" for name, count in report.counts().items() if count)
    return f"{when} [red]{len(report.violations)} violations[/]: {found} ({took})"


def print_report(report: AuditReport, topics: AuditTopics, limit: int) -> None:
    console.print(
        f"checked {report.records_read} records (prefix {topics.prefix!r}) in {report.duration_s:.2f} s", style="dim"
    )
    for invariant in INVARIANTS:
        found = [violation for violation in report.violations if violation.invariant == invariant]
        for violation in found[:limit]:
            console.print(violation_table(violation))
        if len(found) > limit:
            console.print(f"[yellow]... and {len(found) - limit} more {invariant} violations (--json shows all)[/]")
    console.print(counts_table(report))
    for note in report.notes:
        console.print(f"note: {note}", style="dim")
    console.print(summary_line(report))


def counts_table(report: AuditReport) -> Table:
    table = Table(title="invariants")
    table.add_column("invariant")
    table.add_column("violations", justify="right")
    for invariant, count in report.counts().items():
        table.add_row(invariant, f"[red]{count}[/]" if count else "[green]0[/]")
    return table


def violation_table(violation: Violation) -> Table:
    table = Table(title=f"[bold red]{violation.invariant}[/] {violation.message}", title_justify="left")
    for column in ("topic", "partition", "offset", "id", "type", "fields"):
        table.add_column(column, overflow="fold")
    for item in violation.evidence:
        table.add_row(
            item.topic,
            str(item.partition),
            str(item.offset),
            item.event_id or "",
            item.type or "",
            _fields(item.fields),
        )
    return table


def _fields(fields: Any) -> str:
    return ", ".join(f"{name}={_shown(value)}" for name, value in fields.items())


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
