"""Issue 16, item 5: `oms orders list` and `oms inventory list` never cut an id short, so any id they print can
be pasted into `oms orders show` / `oms inventory show`: whole on an 80-column terminal, and tab-separated
lines when the output is not a terminal (or with `--plain`)."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from adapters.cli import app, views_cmd
from adapters.sql.engines import engine_for
from events import Event, EventData, StockReceived
from tests.unit.test_sql_read_model import DAY1, on, placed, project

ORDER_IDS = [f"WEB-17e{n:07x}a9c2b1ff" for n in range(3)] + ["shopify:4501236789012345678"]
SKUS = ["MUG-CLASSIC-WHITE-350ML", "TEA-EARL-GREY-LOOSE-250G"]


def long_ids() -> list[Event[EventData]]:
    stock = [on(StockReceived(sku=sku, qty=5)) for sku in SKUS]
    lines = {SKUS[0]: (1, "12.90"), SKUS[1]: (2, "7.35")}
    emails = "margarethe.schmidt-nowak99@example.com"
    return stock + [
        placed(order_id, "marketplace", emails, lines, DAY1 + timedelta(minutes=n))
        for n, order_id in enumerate(ORDER_IDS)
    ]


@pytest.fixture(autouse=True)
def views(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("OMS_DATABASE_URL", raising=False)
    engine = engine_for(f"sqlite:///{tmp_path / 'oms.sqlite3'}")
    project(engine, long_ids())
    engine.dispose()


def on_a_terminal(monkeypatch: pytest.MonkeyPatch, width: int = 80) -> io.StringIO:
    screen = io.StringIO()
    terminal = Console(file=screen, width=width, force_terminal=True, color_system=None)
    monkeypatch.setattr(views_cmd, "console", terminal)
    return screen


def oms(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(("command", "ids"), [("orders", ORDER_IDS), ("inventory", SKUS)])
def test_on_an_80_column_terminal_every_id_is_whole_on_its_line(
    command: str, ids: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = on_a_terminal(monkeypatch)

    oms(command, "list")

    shown = screen.getvalue()
    assert max(len(line) for line in shown.splitlines()) <= 80
    assert all(any(key in line for line in shown.splitlines()) for key in ids), shown


def test_not_on_a_terminal_the_list_is_tab_separated_and_each_id_pastes_into_show() -> None:
    listed = oms("orders", "list").splitlines()

    assert listed[0].split("\t")[:2] == ["order_id", "status"]
    pasted = [line.split("\t")[0] for line in listed[1:]]
    assert sorted(pasted) == sorted(ORDER_IDS)
    for order_id in pasted:
        assert order_id in oms("orders", "show", order_id, "--json")


def test_plain_on_a_terminal_prints_whole_values_too(monkeypatch: pytest.MonkeyPatch) -> None:
    on_a_terminal(monkeypatch, width=40)

    listed = oms("inventory", "list", "--plain").splitlines()

    assert sorted(line.split("\t")[0] for line in listed[1:]) == sorted(SKUS)
