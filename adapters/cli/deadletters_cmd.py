"""`oms deadletters list|show|retry`: the exceptions desk from the command line."""

from __future__ import annotations

import asyncio
import base64
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from adapters.cli.errors import EXIT_UNREACHABLE, SetupError
from adapters.settings import Settings
from adapters.sql.desk import NotRetryable, SqlDesk, retry_event
from adapters.sql.engines import existing_engine
from events import Event, EventData
from projections.desk import CATEGORIES
from projections.desk_reads import STATUSES, DeskItem
from projections.tables import desk_items

console = Console()
deadletters_app = typer.Typer(
    help="The exceptions desk: dead letters, refused requests, payment mismatches, backorders without an ETA.",
    no_args_is_help=True,
)
DeskStatus = StrEnum("DeskStatus", [(status, status) for status in STATUSES])  # type: ignore[misc]
DeskCategory = StrEnum("DeskCategory", [(category, category) for category in CATEGORIES])  # type: ignore[misc]
LIST_COLUMNS = ("item_id", "status", "category", "kind", "subject", "event_type", "first_seen", "reason")


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(deadletters_app, name="deadletters")
    deadletters_app.command("list")(list_cmd)
    deadletters_app.command("show")(show_cmd)
    deadletters_app.command("retry")(retry_cmd)


def list_cmd(
    status: DeskStatus | None = typer.Option(None, "--status", help="open, retried, resolved or failed."),
    category: DeskCategory | None = typer.Option(None, "--category", help="What kind of trouble."),
    limit: int = typer.Option(50, "--limit", min=1, max=500),
    offset: int = typer.Option(0, "--offset", min=0),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List what needs a person, newest first."""
    desk = _desk(Settings())
    items, total = desk.list_items(
        status=status and status.value, category=category and category.value, limit=limit, offset=offset
    )
    if as_json:
        _print_json({"items": [_public(item) for item in items], "total": total, "limit": limit, "offset": offset})
        return
    table = Table(title=f"desk items {offset + 1 if items else 0}-{offset + len(items)} of {total}")
    for column in LIST_COLUMNS:
        table.add_column(column, overflow="fold")
    for item in items:
        fields = item.as_dict()
        table.add_row(*(_text(fields[column]) for column in LIST_COLUMNS))
    console.print(table)


def show_cmd(
    item_id: str = typer.Argument(..., help="The item's id (from `oms deadletters list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show one item: its reason, where the record sits, its original bytes and what became of every retry."""
    item = _item(_desk(Settings()), item_id)
    if as_json:
        _print_json(_public(item) | {"original": item.original, "retries": [vars(r) for r in item.retries]})
        return
    facts = Table(title=f"desk item {item.item_id}", show_header=False)
    for name, value in _public(item).items():
        facts.add_row(name, _text(value))
    if item.original:
        facts.add_row("original", _original_text(item.original))
    console.print(facts)
    retries = Table(title="retries")
    for column in ("retry_id", "status", "type", "time", "effects", "retry_item"):
        retries.add_column(column, overflow="fold")
    for r in item.retries:
        retries.add_row(r.retry_id, r.status, r.type, _text(r.time), ", ".join(r.effects), r.retry_item or "")
    console.print(retries if item.retries else "[dim]not retried[/]")


def retry_cmd(
    item_id: str = typer.Argument(..., help="The item's id."),
    event_file: Path | None = typer.Option(
        None, "--event", help="A corrected CloudEvent (JSON file, `-` for stdin) to publish instead of the original."
    ),
    bootstrap: str | None = typer.Option(
        None, "--bootstrap", help="Kafka bootstrap servers (default: OMS_KAFKA_BOOTSTRAP)."
    ),
) -> None:
    """Publish the original event again, or a corrected one, under a new id caused by the item."""
    settings = Settings()
    servers = bootstrap or settings.kafka_bootstrap
    if not servers:
        raise SetupError("retry publishes to the running broker: pass --bootstrap or set OMS_KAFKA_BOOTSTRAP")
    item = _item(_desk(settings), item_id)
    corrected = _read_event(event_file) if event_file is not None else None
    try:
        event = retry_event(item, corrected)
    except NotRetryable as refused:
        raise typer.BadParameter(str(refused), param_hint="--event") from None
    asyncio.run(_publish(servers, settings, event))
    typer.echo(f"retried {item.item_id} as {event.type} {event.id} (key {event.subject})")


async def _publish(bootstrap: str, settings: Settings, event: Event[EventData]) -> None:
    from adapters.kafka.publisher import KafkaPublisher

    publisher = KafkaPublisher(bootstrap, settings.topic)
    await publisher.start()
    try:
        await publisher.publish([event])
    finally:
        await publisher.stop()


def _desk(settings: Settings) -> SqlDesk:
    try:
        engine = existing_engine(settings.views_url, [desk_items.name])
    except SQLAlchemyError as error:
        raise SetupError(f"the views database does not answer: {error}", EXIT_UNREACHABLE) from None
    if engine is None:
        raise SetupError("no exceptions desk in the views database yet: run `oms project` (or `oms demo`) first")
    return SqlDesk(engine)


def _item(desk: SqlDesk, item_id: str) -> DeskItem:
    item = desk.get_item(item_id)
    if item is None:
        console.print(f"[yellow]no desk item {item_id}[/]")
        raise typer.Exit(1)
    return item


def _read_event(path: Path) -> bytes:
    try:
        return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as error:
        raise typer.BadParameter(f"cannot read {path}: {error.strerror}", param_hint="--event") from None


def _public(item: DeskItem) -> dict[str, Any]:
    fields = item.as_dict()
    return {name: value for name, value in fields.items() if name not in ("original", "retries")}


def _original_text(original: str) -> str:
    raw = base64.b64decode(original)
    shown = raw[:500].decode("utf-8", "replace")
    return shown + (f" ... ({len(raw):,} bytes)" if len(raw) > 500 else "")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _print_json(value: Any) -> None:
    typer.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str).decode())
