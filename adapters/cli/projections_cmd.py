"""`oms project`, `oms history`, `oms replay`, `oms export`, `oms orders ...`, `oms inventory ...`:
the read side of the system, its archive and its replay."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Connection, Engine, func, or_, select

from adapters.cli.errors import SetupError
from adapters.order_statuses import OrderStatus
from adapters.settings import Settings
from adapters.sql.engines import archive_url, engine_for, existing_engine
from projections import archive as history
from projections import queries
from projections.projector import (
    ARCHIVE,
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
orders_app = typer.Typer(help="Read the orders view.", no_args_is_help=True)
inventory_app = typer.Typer(help="Read the inventory view.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("project")(project)
    app.command("history")(history_cmd)
    app.command("replay")(replay_cmd)
    app.command("export")(export_cmd)
    app.command("seed-history", hidden=True)(seed_history)
    app.add_typer(orders_app, name="orders")
    app.add_typer(inventory_app, name="inventory")
    orders_app.command("list")(orders_list)
    orders_app.command("show")(orders_show)
    inventory_app.command("list")(inventory_list)
    inventory_app.command("show")(inventory_show)


# --- helpers --------------------------------------------------------------------------------


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


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _rich_table(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str], key: str | None = None) -> Table:
    """A table that cuts no value short: a narrow terminal folds them onto more lines, the `key` column (an id
    to paste into another command) last of all, so that it stays on one line whenever the terminal allows."""
    table = Table(title=title)
    for column in columns:
        if column == key:
            widest = max((len(_text(row.get(column))) for row in rows), default=0)
            table.add_column(column.replace("_", " "), no_wrap=True, overflow="fold", min_width=widest)
        else:
            table.add_column(column.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(_text(row.get(column)) for column in columns))
    return table


def _print_rows(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str], key: str, plain: bool) -> None:
    """A table on a terminal; with `--plain`, or when the output goes to a pipe or a file, tab-separated lines
    of whole values under a header line."""
    if plain or not console.is_terminal:
        typer.echo("\t".join(columns))
        for row in rows:
            typer.echo("\t".join(_text(row.get(column)) for column in columns))
        return
    console.print(_rich_table(title, rows, columns, key=key))


def _fields_table(title: str, row: dict[str, Any], skip: Sequence[str] = ()) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in row.items():
        if key not in skip:
            table.add_row(key.replace("_", " "), _text(value))
    return table


@contextlib.contextmanager
def _connected(engine: Engine) -> Iterator[Connection]:
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _views(settings: Settings) -> Engine:
    """The views `oms project` (or `oms demo`) wrote; a database without them is refused, and none is created."""
    tables = [*ORDERS.tables, *INVENTORY.tables]
    engine = existing_engine(settings.views_url, [table.name for table in tables])
    if engine is None:
        raise SetupError(_nothing_in(settings, settings.views_url, "no views"))
    return engine


def _archive(settings: Settings, *, create: bool = False) -> Engine:
    """The history archive; unless `create`, one that does not exist yet is refused, and none is created."""
    url = archive_url(settings)
    engine = engine_for(url) if create else existing_engine(url, [table.name for table in ARCHIVE.tables])
    if engine is None:
        raise SetupError(_nothing_in(settings, url, "no history archive"))
    with engine.begin() as conn:
        create_tables(conn, ARCHIVE.tables)
    return engine


def _nothing_in(settings: Settings, url: str, what: str) -> str:
    if settings.database_url:
        return f"{what} in the database of OMS_DATABASE_URL: run `oms project` against it first, or fix the URL"
    looked_at = Path(url.removeprefix("sqlite:///")).resolve()
    chosen = f"OMS_DATA_DIR={settings.data_dir}" if "data_dir" in settings.model_fields_set else "OMS_DATA_DIR unset"
    return f"{what} at {looked_at} ({chosen}): set OMS_DATA_DIR to the folder `oms demo` or `oms project` wrote"


# --- oms project ----------------------------------------------------------------------------


def project(
    bootstrap: str | None = typer.Option(
        None, "--bootstrap", help="Kafka bootstrap servers (default: OMS_KAFKA_BOOTSTRAP)."
    ),
    only: list[str] = typer.Option(
        [], "--only", help="Run only these projections: orders, inventory, archive (repeatable)."
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
    )
    console.print(f"projecting {', '.join(names)} from {servers} (prefix {settings.topic_prefix!r})", style="dim")
    projector.run_until_signalled(until_caught_up=until_caught_up)
    console.print(f"applied {projector.applied} events", style="dim")


# --- oms history ----------------------------------------------------------------------------


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
    with _connected(_archive(Settings())) as conn:
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
    console.print(_fields_table(f"{sku} at {_text(moment) or 'now'}", row))


def _show_order_at(conn: Connection, order_id: str, moment: datetime, as_json: bool) -> None:
    from adapters.cli.order_tables import print_order

    row = history.order_at(conn, order_id, moment)
    if row is None:
        console.print(f"[yellow]order {order_id} did not exist yet at {_text(moment)}[/]")
        raise typer.Exit(1)
    if as_json:
        print_json(row)
        return
    console.print(f"[bold]as it was at {_text(moment)}[/]")
    print_order(console, {**row, "timeline": []})


def _show_timeline(conn: Connection, order_id: str, as_json: bool) -> None:
    steps = history.history_of(conn, order_id)
    if not steps:
        console.print(f"[yellow]no events for order {order_id} in the archive[/]")
        raise typer.Exit(1)
    if as_json:
        print_json(steps)
        return
    console.print(_rich_table(f"history of {order_id}", steps, ["time", "type", "summary", "topic", "offset"]))


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
) -> None:
    """Rebuild a view from the history archive into a fresh database; prints the events/s reached."""
    from projections.replay import replay

    try:
        projections = [ORDERS, INVENTORY] if view == "all" else [projection_named(view.value)]
    except UnknownProjection as exc:
        raise typer.BadParameter(str(exc)) from None
    settings = Settings()
    url = into or f"sqlite:///{settings.data_dir / f'replay-{view.value}-{datetime.now(UTC):%Y%m%dT%H%M%S}.sqlite3'}"
    target = engine_for(url)
    _refuse_unless_fresh(target, projections)
    bounds = {"since": parse_time(since), "until": parse_time(until)}
    with _connected(_archive(settings)) as conn:
        total = sum(_archived_count(conn, p, **bounds) for p in projections)
        events, seconds = 0, 0.0
        with _progress() as progress:
            task = progress.add_task(f"replaying {view.value}", total=total)
            for projection in projections:
                result = replay(
                    conn, target, projection, batch=batch, progress=lambda n: progress.advance(task, n), **bounds
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
    out: Path = typer.Option(..., "--out", "-o", help="File to write."),
    fmt: str = typer.Option("parquet", "--format", help="parquet (the only format for now)."),
    since: str | None = typer.Option(None, "--from", help="Only events at or after this time."),
    until: str | None = typer.Option(None, "--until", help="Only events at or before this time."),
) -> None:
    """Write the history archive (topic, partition, offset, event id, type, time, key, order id, CloudEvent
    JSON) as Parquet for analysts, through DuckDB."""
    if fmt != "parquet":
        raise typer.BadParameter("only --format parquet is supported")
    from adapters.sql.archive import export_parquet

    with _connected(_archive(Settings())) as conn:
        started = time.perf_counter()
        count = export_parquet(conn, out, since=parse_time(since), until=parse_time(until))
    console.print(f"wrote {count} events to {out} in {time.perf_counter() - started:.2f}s")


def seed_history(
    orders: int = typer.Option(10_000, "--orders", min=1, help="Orders to simulate (about 10 events each)."),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """Fill the archive with a synthetic history (benchmarks and demos)."""
    from adapters.bench.seed import seed_archive

    with _connected(_archive(Settings(), create=True)) as conn:
        count = seed_archive(conn, orders=orders, seed=seed)
        conn.commit()
    console.print(f"archived {count} simulated events")


# --- oms orders / oms inventory -------------------------------------------------------------

ORDER_COLUMNS = ["order_id", "status", "channel", "customer_email", "total_amount", "currency", "placed_at"]
SKU_COLUMNS = ["sku", "on_hand", "reserved", "available", "incoming_qty", "backordered_qty", "is_low"]
PLAIN_HELP = "Tab-separated lines of whole values (the default when the output is not a terminal)."


def orders_list(
    status: OrderStatus | None = typer.Option(None, "--status", help="Only orders in this status."),
    channel: str | None = typer.Option(None, "--channel"),
    customer: str | None = typer.Option(None, "--customer", help="Customer email."),
    since: str | None = typer.Option(None, "--from", help="Placed at or after (ISO 8601)."),
    until: str | None = typer.Option(None, "--until", help="Placed before (ISO 8601)."),
    limit: int = typer.Option(50, "--limit", min=1, max=queries.MAX_LIMIT),
    offset: int = typer.Option(0, "--offset", min=0),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    plain: bool = typer.Option(False, "--plain", help=PLAIN_HELP),
) -> None:
    """List orders, newest first."""
    filters = {"status": status and status.value, "channel": channel, "customer": customer}
    with _connected(_views(Settings())) as conn:
        rows = queries.list_orders(
            conn, **filters, placed_from=parse_time(since), placed_to=parse_time(until), limit=limit, offset=offset
        )
        total = queries.count_orders(conn, **filters, placed_from=parse_time(since), placed_to=parse_time(until))
    if as_json:
        print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return
    _print_rows(f"orders {offset + 1}-{offset + len(rows)} of {total}", rows, ORDER_COLUMNS, "order_id", plain)


def orders_show(
    order_id: str = typer.Argument(..., help="The order id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show one order: its status, ledger (total, captured, refunded, balance due), lines, payments, parcels
    (each with its tracking), returns and timeline, where a refused request shows the refusal."""
    from adapters.cli.order_tables import print_order
    from adapters.http.api.schemas import OrderDetail

    with _connected(_views(Settings())) as conn:
        order = queries.get_order(conn, order_id)
        refused = [] if order is not None else queries.refused_placements(conn, order_id)
    if order is None:
        console.print(f"[yellow]no order {order_id}[/]")
        for step in refused:  # the order processor never took it: say why, where ops look for the order
            console.print(f"its placement was dead-lettered ({step['refusal_code']}): {step['refusal_reason']}")
        raise typer.Exit(1)
    if as_json:  # the API's order detail: the ledger, payments, parcels and a timeline that says what was refused
        print_json(OrderDetail.model_validate(order).model_dump(mode="json"))
        return
    print_order(console, order)


def inventory_list(
    low: bool = typer.Option(False, "--low", help="Only skus below their reorder point."),
    limit: int = typer.Option(100, "--limit", min=1, max=queries.MAX_LIMIT),
    offset: int = typer.Option(0, "--offset", min=0),
    as_json: bool = typer.Option(False, "--json"),
    plain: bool = typer.Option(False, "--plain", help=PLAIN_HELP),
) -> None:
    """List stock per sku."""
    with _connected(_views(Settings())) as conn:
        rows = queries.list_inventory(conn, low_only=low, limit=limit, offset=offset)
    if as_json:
        print_json(rows)
        return
    _print_rows("inventory", rows, SKU_COLUMNS, "sku", plain)


def inventory_show(
    sku: str = typer.Argument(..., help="The sku."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Show one sku's stock: on hand, reserved, available, incoming, backorders, reorder state."""
    with _connected(_views(Settings())) as conn:
        row = queries.get_sku(conn, sku)
    if row is None:
        console.print(f"[yellow]no stock events for {sku}[/]")
        raise typer.Exit(1)
    if as_json:
        print_json(row)
        return
    console.print(_fields_table(sku, row, skip=("incoming", "backorders")))
    if row["incoming"]:
        console.print(_rich_table("incoming", row["incoming"], ["purchase_order", "qty", "eta"]))
    if row["backorders"]:
        waiting = [{"order_id": k, "qty": v} for k, v in row["backorders"].items()]
        console.print(_rich_table("backorders", waiting, ["order_id", "qty"]))
