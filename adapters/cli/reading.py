"""What the read commands share: times and JSON on the command line, tables that cut no value short, and the
views or archive of the data folder, refused (never created) when they are not there."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.table import Table
from sqlalchemy import Connection, Engine

from adapters.cli.errors import SetupError
from adapters.settings import Settings
from adapters.sql.engines import archive_url, engine_for, existing_engine
from projections.projector import ARCHIVE, INVENTORY, ORDERS
from projections.tables import create_tables


def parse_time(value: str | None) -> datetime | None:
    """ISO 8601 (`2026-01-31`, `2026-01-31T12:00:00Z`, with an offset); no offset means UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def print_json(value: Any) -> None:
    typer.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def rich_table(title: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str], key: str | None = None) -> Table:
    """A table that cuts no value short: a narrow terminal folds them onto more lines, the `key` column (an id
    to paste into another command) last of all, so that it stays on one line whenever the terminal allows."""
    table = Table(title=title)
    for column in columns:
        if column == key:
            widest = max((len(text(row.get(column))) for row in rows), default=0)
            table.add_column(column.replace("_", " "), no_wrap=True, overflow="fold", min_width=widest)
        else:
            table.add_column(column.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(text(row.get(column)) for column in columns))
    return table


def fields_table(title: str, row: Mapping[str, Any], skip: Sequence[str] = ()) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in row.items():
        if key not in skip:
            table.add_row(key.replace("_", " "), text(value))
    return table


@contextlib.contextmanager
def connected(engine: Engine) -> Iterator[Connection]:
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def existing_views(settings: Settings) -> Engine:
    """The views `oms project` (or `oms demo`) wrote; a database without them is refused, and none is created."""
    tables = [*ORDERS.tables, *INVENTORY.tables]
    engine = existing_engine(settings.views_url, [table.name for table in tables])
    if engine is None:
        raise SetupError(_nothing_in(settings, settings.views_url, "no views"))
    return engine


def existing_archive(settings: Settings, *, create: bool = False) -> Engine:
    """The history archive; unless `create`, one that does not exist yet is refused, and none is created."""
    url = archive_url(settings)
    engine = engine_for(url) if create else existing_engine(url, [table.name for table in ARCHIVE.tables])
    if engine is None:
        raise SetupError(_nothing_in(settings, url, "no history archive"))
    if create:  # a read leaves the database as it found it: only a writer makes the archive's tables
        with engine.begin() as conn:
            create_tables(conn, ARCHIVE.tables)
    return engine


def _nothing_in(settings: Settings, url: str, what: str) -> str:
    if settings.database_url:
        return f"{what} in the database of OMS_DATABASE_URL: run `oms project` against it first, or fix the URL"
    looked_at = Path(url.removeprefix("sqlite:///")).resolve()
    chosen = f"OMS_DATA_DIR={settings.data_dir}" if "data_dir" in settings.model_fields_set else "OMS_DATA_DIR unset"
    return f"{what} at {looked_at} ({chosen}): set OMS_DATA_DIR to the folder `oms demo` or `oms project` wrote"
