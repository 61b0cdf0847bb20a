"""`oms orders ...`, `oms inventory ...`: read the views `oms project` (or `oms demo`) wrote."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import typer
from rich.console import Console

from adapters.cli.reading import connected, existing_views, fields_table, parse_time, print_json, rich_table, text
from adapters.order_statuses import OrderStatus
from adapters.settings import Settings
from projections import inventory_queries
from projections import order_detail_queries as order_detail
from projections import order_list_queries as order_list
from projections.order_list_queries import OrderQuery

console = Console()
orders_app = typer.Typer(help="Read the orders view.", no_args_is_help=True)
inventory_app = typer.Typer(help="Read the inventory view.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(orders_app, name="orders")
    app.add_typer(inventory_app, name="inventory")
    orders_app.command("list")(orders_list)
    orders_app.command("show")(orders_show)
    inventory_app.command("list")(inventory_list)
    inventory_app.command("show")(inventory_show)


ORDER_COLUMNS = ["order_id", "status", "channel", "customer_email", "total_amount", "currency", "placed_at"]
SKU_COLUMNS = ["sku", "on_hand", "reserved", "available", "incoming_qty", "backordered_qty", "is_low"]
PLAIN_HELP = "Tab-separated lines of whole values (the default when the output is not a terminal)."


def orders_list(
    status: OrderStatus | None = typer.Option(None, "--status", help="Only orders in this status."),
    channel: str | None = typer.Option(None, "--channel"),
    customer: str | None = typer.Option(None, "--customer", help="Customer email."),
    since: str | None = typer.Option(None, "--from", help="Placed at or after (ISO 8601)."),
    until: str | None = typer.Option(None, "--until", help="Placed before (ISO 8601)."),
    search: str | None = typer.Option(None, "--search", help="Part of the id, reference, email or name."),
    oldest: bool = typer.Option(False, "--oldest", help="Oldest first."),
    limit: int = typer.Option(50, "--limit", min=1, max=order_list.EXPORT_CHUNK),
    after: str | None = typer.Option(None, "--after", help="The cursor a previous page ended with: the next page."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    plain: bool = typer.Option(False, "--plain", help=PLAIN_HELP),
) -> None:
    """List orders, newest first, a page at a time (`--after` the cursor a page ends with), as the API and the
    dashboard list them."""
    query = OrderQuery(
        status=status and status.value,
        channel=channel,
        customer=customer,
        placed_from=parse_time(since),
        placed_to=parse_time(until),
        search=search,
        sort="oldest" if oldest else "newest",
    )
    try:
        with connected(existing_views(Settings())) as conn:
            page = order_list.order_page(conn, query, limit, after)
    except order_list.BadCursor as bad:
        raise typer.BadParameter(f"--after: {bad}") from None
    rows = [asdict(row) for row in page.rows]
    if as_json:
        print_json({"items": rows, "total": page.total, "limit": limit, "next_cursor": page.next_cursor})
        return
    _print_rows(f"{len(rows)} of {page.total} orders", rows, ORDER_COLUMNS, "order_id", plain)
    if page.next_cursor and not plain and console.is_terminal:
        console.print(f"next page: --after {page.next_cursor}")


def orders_show(
    order_id: str = typer.Argument(..., help="The order id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show one order: its status, ledger (total, captured, refunded, balance due), lines, payments, parcels
    (each with its tracking), returns and timeline, where a refused request shows the refusal."""
    from adapters.cli.order_tables import print_order
    from adapters.http.api.schemas import OrderDetail

    with connected(existing_views(Settings())) as conn:
        order = order_detail.get_order(conn, order_id)
        refused = [] if order is not None else order_detail.refused_placements(conn, order_id)
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
    limit: int = typer.Option(100, "--limit", min=1, max=inventory_queries.MAX_LIMIT),
    offset: int = typer.Option(0, "--offset", min=0),
    as_json: bool = typer.Option(False, "--json"),
    plain: bool = typer.Option(False, "--plain", help=PLAIN_HELP),
) -> None:
    """List stock per sku."""
    with connected(existing_views(Settings())) as conn:
        rows = inventory_queries.list_inventory(conn, low_only=low, limit=limit, offset=offset)
    if as_json:
        print_json(rows)
        return
    _print_rows("inventory", rows, SKU_COLUMNS, "sku", plain)


def inventory_show(
    sku: str = typer.Argument(..., help="The sku."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Show one sku's stock: on hand, reserved, available, incoming, backorders, reorder state."""
    with connected(existing_views(Settings())) as conn:
        row = inventory_queries.get_sku(conn, sku)
    if row is None:
        console.print(f"[yellow]no stock events for {sku}[/]")
        raise typer.Exit(1)
    if as_json:
        print_json(row)
        return
    console.print(fields_table(sku, row, skip=("incoming", "backorders")))
    if row["incoming"]:
        console.print(rich_table("incoming", row["incoming"], ["purchase_order", "qty", "eta"]))
    if row["backorders"]:
        waiting = [{"order_id": k, "qty": v} for k, v in row["backorders"].items()]
        console.print(rich_table("backorders", waiting, ["order_id", "qty"]))


def _print_rows(title: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str], key: str, plain: bool) -> None:
    """A table on a terminal; with `--plain`, or when the output goes to a pipe or a file, tab-separated lines
    of whole values under a header line."""
    if plain or not console.is_terminal:
        typer.echo("\t".join(columns))
        for row in rows:
            typer.echo("\t".join(text(row.get(column)) for column in columns))
        return
    console.print(rich_table(title, rows, columns, key=key))
