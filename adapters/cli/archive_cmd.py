"""`oms history`, `oms replay`, `oms export` (and the hidden `oms seed-history`): read, rebuild from, export and
fill the history archive."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Connection, Engine, func, or_, select

from adapters.cli.reading import connected, existing_archive, fields_table, parse_time, print_json, rich_table, text
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from projections import archive as history
from projections.projector import (
    INVENTORY,
    ORDERS,
    PROJECTIONS,
    VIEWS,
    Projection,
    UnknownProjection,
    projection_named,
)
from projections.tables import archive, create_tables
from projections.tables import tracking as tracking_table

console = Console()


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("history")(history_cmd)
    app.command("replay")(replay_cmd)
    app.command("export")(export_cmd)
    app.command("seed-history", hidden=True)(seed_history)


def history_cmd(
    order_id: str | None = typer.Argument(None, help="Show this order's timeline (or its state at --at)."),
    sku: str | None = typer.Option(None, "--sku", help="Show this sku's stock (at --at, else now)."),
    at: str | None = typer.Option(None, "--at", help="Point in time, ISO 8601 (e.g. 2026-01-31T12:00:00Z)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Read the history archive: an order's timeline, an order as it was at a time, a sku's stock then."""
    if (order_id is None) == (sku is None):
        raise typer.BadParameter("give an ORDER_ID or --sku SKU")
    moment = parse_time(at)
    with connected(existing_archive(Settings())) as conn:
        if sku is not None:
            _show_stock_at(conn, sku, moment, as_json)
        elif moment is not None:
            _show_order_at(conn, order_id or "", moment, as_json)
        else:
            _show_timeline(conn, order_id or "", as_json)


def _show_stock_at(conn: Connection, sku: str, moment: datetime | None, as_json: bool) -> None:
    row = history.stock_at(conn, sku, moment)
    if as_json:
        print_json(row)
        return
    console.print(fields_table(f"{sku} at {text(moment) or 'now'}", row))


def _show_order_at(conn: Connection, order_id: str, moment: datetime, as_json: bool) -> None:
    from adapters.cli.order_tables import print_order

    row = history.order_at(conn, order_id, moment)
    if row is None:
        console.print(f"[yellow]order {order_id} did not exist yet at {text(moment)}[/]")
        raise typer.Exit(1)
    if as_json:
        print_json(row)
        return
    console.print(f"[bold]as it was at {text(moment)}[/]")
    print_order(console, {**row, "timeline": []})


def _show_timeline(conn: Connection, order_id: str, as_json: bool) -> None:
    steps = history.history_of(conn, order_id)
    if not steps:
        console.print(f"[yellow]no events for order {order_id} in the archive[/]")
        raise typer.Exit(1)
    if as_json:
        print_json(steps)
        return
    console.print(rich_table(f"history of {order_id}", steps, ["time", "type", "summary", "topic", "offset"]))


# --- oms replay -----------------------------------------------------------------------------


ReplayView = StrEnum("ReplayView", [(name, name) for name in dict.fromkeys([*VIEWS, *PROJECTIONS, "all"])])  # type: ignore[misc]


def replay_cmd(
    view: ReplayView = typer.Argument(..., help="The view to rebuild (all: orders and inventory)."),
    since: str | None = typer.Option(None, "--from", help="Only events at or after this time (ISO 8601)."),
    until: str | None = typer.Option(None, "--until", help="Only events at or before this time: the view as at then."),
    into: str | None = typer.Option(
        None, "--into", help="SQLAlchemy URL of a fresh database (default: a new SQLite file under OMS_DATA_DIR)."
    ),
    batch: int = typer.Option(5000, "--batch", min=1, help="Events per transaction."),
    shadow: bool = typer.Option(
        False, "--shadow", help="Rebuild beside the live view up to its positions and report every row that differs."
    ),
    swap: bool = typer.Option(False, "--swap", help="With --shadow: then make the shadow live, in one transaction."),
) -> None:
    """Rebuild a view from the history archive into a fresh database; prints the events/s reached. With --shadow,
    reconcile the live view with a rebuild (exit 1 when they differ)."""
    from projections.replay import replay

    try:
        projections = [ORDERS, INVENTORY] if view == "all" else [projection_named(view.value)]
    except UnknownProjection as exc:
        raise typer.BadParameter(str(exc)) from None
    if swap and not shadow:
        raise typer.BadParameter("--swap makes a shadow live: give --shadow too")
    if shadow:
        if into or since or until:
            raise typer.BadParameter(
                "--shadow rebuilds beside the live view, up to its positions: no --into/--from/--until"
            )
        from adapters.cli.shadow_cmd import shadow_replay

        shadow_replay(projections, swap=swap, batch=batch)
        return
    settings = Settings()
    url = into or f"sqlite:///{settings.data_dir / f'replay-{view.value}-{datetime.now(UTC):%Y%m%dT%H%M%S}.sqlite3'}"
    target = engine_for(url)
    _refuse_unless_fresh(target, projections)
    bounds: dict[str, datetime | None] = {"since": parse_time(since), "until": parse_time(until)}
    with connected(existing_archive(settings)) as conn:
        total = sum(_archived_count(conn, p, **bounds) for p in projections)
        events, seconds = 0, 0.0
        with _progress() as progress:
            task = progress.add_task(f"replaying {view.value}", total=total)
            for projection in projections:
                result = replay(
                    conn,
                    target,
                    projection,
                    batch=batch,
                    progress=lambda n: progress.advance(task, n),
                    since=bounds["since"],
                    until=bounds["until"],
                )
                events, seconds = events + result.events, seconds + result.seconds
    target.dispose()
    rate = events / seconds if seconds else 0.0
    console.print(f"replayed {events} events into {url} in {seconds:.2f}s: [bold]{rate:,.0f} events/s[/]")


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _archived_count(conn: Connection, projection: Projection, since: datetime | None, until: datetime | None) -> int:
    query = select(func.count()).select_from(archive)
    query = query.where(or_(*(archive.c.topic.endswith(t) for t in projection.topics)))
    if since is not None:
        query = query.where(archive.c.time >= since)
    if until is not None:
        query = query.where(archive.c.time <= until)
    return int(conn.execute(query).scalar_one())


def _refuse_unless_fresh(target: Engine, projections: Sequence[Projection]) -> None:
    with target.begin() as conn:
        create_tables(conn, [t for p in projections for t in p.tables])
        names = [p.name for p in projections]
        used = conn.execute(select(func.count()).where(tracking_table.c.projection.in_(names))).scalar_one()
    if used:
        console.print(f"[red]{target.url!r} already holds {', '.join(names)}: replay needs a fresh database[/]")
        raise typer.Exit(2)


# --- oms export -----------------------------------------------------------------------------


def export_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write (date=.../type=.../*.parquet)."),
    fmt: str = typer.Option("parquet", "--format", help="parquet (the only format for now)."),
    since: str | None = typer.Option(None, "--from", help="Only events at or after this time."),
    until: str | None = typer.Option(None, "--until", help="Only events at or before this time."),
) -> None:
    """Write the history for analysts as Parquet partitioned by date and type, through DuckDB: one row per event id
    (redeliveries and the pipeline's internal topics left out), payload fields flattened (docs/analytics.md)."""
    if fmt != "parquet":
        raise typer.BadParameter("only --format parquet is supported")
    from adapters.sql.archive import ExportFolderInUse, export_parquet

    with connected(existing_archive(Settings())) as conn:
        started = time.perf_counter()
        try:
            count = export_parquet(conn, out, since=parse_time(since), until=parse_time(until))
        except ExportFolderInUse as error:
            raise typer.BadParameter(str(error), param_hint="--out") from None
    console.print(f"wrote {count} events to {out} in {time.perf_counter() - started:.2f}s")


def seed_history(
    orders: int = typer.Option(10_000, "--orders", min=1, help="Orders to simulate (about 10 events each)."),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """Fill the archive with a synthetic history (benchmarks and demos)."""
    from adapters.bench.seed import seed_archive

    with connected(existing_archive(Settings(), create=True)) as conn:
        count = seed_archive(conn, orders=orders, seed=seed)
        conn.commit()
    console.print(f"archived {count} simulated events")
