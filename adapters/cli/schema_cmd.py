"""`oms schema`: publish the event contract as JSON Schema and AsyncAPI."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)


def schema(out: Path = typer.Option(Path("schema"), "--out", "-o", help="Folder to write the documents into.")) -> None:
    """Write a JSON Schema per event type and an AsyncAPI 3 document of the topics."""
    from events.schema import write_schemas

    written = write_schemas(out)
    typer.echo(f"wrote {len(written)} files to {out}")
