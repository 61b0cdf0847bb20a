"""`oms audit [--user U] [--since T]`: the ops actions by person, newest first, read from the history archive."""

from __future__ import annotations

from dataclasses import asdict

import typer
from rich.console import Console

from adapters.cli.reading import connected, existing_archive, parse_time, print_json, rich_table
from adapters.settings import Settings
from projections.audit import DEFAULT_LIMIT, ops_actions

console = Console()
COLUMNS = ("time", "actor", "type", "subject", "summary", "event_id")


def register(app: typer.Typer) -> None:
    """Add this module's command to `app`."""
    app.command("audit")(audit_cmd)


def audit_cmd(
    user: str | None = typer.Option(None, "--user", help="Only this person's actions (a user name, or key:<id>)."),
    since: str | None = typer.Option(None, "--since", help="Only actions at this time or later (ISO 8601)."),
    limit: int = typer.Option(DEFAULT_LIMIT, "--limit", min=1, max=100_000),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Who did what: every event an ops action produced (cancellations, stock receipts, returns...), with the
    person who asked for it, from the log (the history archive, so refused requests are there too)."""
    with connected(existing_archive(Settings())) as conn:
        actions = ops_actions(conn, user=user, since=parse_time(since), limit=limit)
    rows = [asdict(action) | {"time": action.time.isoformat()} for action in actions]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no ops actions" + (f" by {user}" if user else "") + (f" since {since}" if since else ""))
        return
    console.print(rich_table(f"ops actions ({len(rows)}, newest first)", rows, COLUMNS, key="event_id"))
