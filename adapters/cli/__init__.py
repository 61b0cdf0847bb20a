"""The `oms` command line. Each command group lives in its own module and registers itself here."""

from __future__ import annotations

import typer

from adapters.cli import (
    archive_cmd,
    audit_cmd,
    bench_cmd,
    broker_cmd,
    check_cmd,
    deadletters_cmd,
    demo_cmd,
    ops_cmd,
    pipeline_cmd,
    project_cmd,
    schema_cmd,
    users_cmd,
    views_cmd,
    webhooks_cmd,
)
from adapters.cli.errors import OmsGroup

app = typer.Typer(
    name="oms",
    cls=OmsGroup,
    help="Event-sourced order management: broker, pipeline, projections, API and tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    # Click-style help: Typer's Rich panels show every flag as taking a value (`--json <bool>`, `--help <bool>`).
    rich_markup_mode=None,
)


@app.callback()
def options(
    debug: bool = typer.Option(
        False, "--debug", help="Print the traceback behind an error (OMS_LOG_LEVEL=debug does too)."
    ),
) -> None:
    """Event-sourced order management: broker, pipeline, projections, API and tools."""


COMMAND_MODULES = (
    demo_cmd,
    bench_cmd,
    broker_cmd,
    schema_cmd,
    pipeline_cmd,
    project_cmd,
    archive_cmd,
    views_cmd,
    ops_cmd,
    check_cmd,
)
for module in COMMAND_MODULES:
    module.register(app)
deadletters_cmd.register(app)
webhooks_cmd.register(app)
users_cmd.register(app)
audit_cmd.register(app)
