"""`oms replay VIEW --shadow [--swap]`: rebuild a view beside the live one up to its positions, report every row
that differs, and (with --swap) make the shadow live."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine

from adapters.cli.reading import existing_archive, existing_views
from adapters.settings import Settings
from adapters.sql.reconciliations import record_reconciliation
from adapters.sql.shadow import ShadowError, reconcile, swap_in_shadow
from projections.projector import Projection

console = Console()


def shadow_replay(projections: list[Projection], *, swap: bool, batch: int) -> None:
    """Reconcile each projection's live view with its shadow; exit 1 when any differs (after swapping, if asked)."""
    settings = Settings()
    live, history = existing_views(settings), existing_archive(settings)
    total = 0
    try:
        for projection in projections:
            total += _reconcile_one(live, history, projection, swap=swap, batch=batch)
    except ShadowError as error:
        console.print(f"[red]{escape(str(error))}[/]")
        raise typer.Exit(2) from None
    finally:
        live.dispose()
        history.dispose()
    if total and not swap:
        raise typer.Exit(1)


def _reconcile_one(live: Engine, history: Engine, projection: Projection, *, swap: bool, batch: int) -> int:
    found = reconcile(live, history, projection, batch=batch)
    try:
        for difference in found.differences:
            console.print(escape(difference.describe()), soft_wrap=True)
        record_reconciliation(live, projection.name, len(found.differences), found.events, found.seconds)
        console.print(
            f"{projection.name}: shadow at {escape(found.shadow_url)} rebuilt from {found.events} archived records "
            f"up to the live view's {len(found.positions)} partition positions in {found.seconds:.2f}s"
        )
        count = len(found.differences)
        console.print(f"[bold]{count} difference{'' if count == 1 else 's'}[/]")
        if swap:
            caught_up = swap_in_shadow(live, found.shadow, history, projection)
            console.print(f"{projection.name}: the shadow is live ({caught_up} events it had not seen applied on top)")
    finally:
        found.shadow.dispose()
    return len(found.differences)
