"""`oms replay VIEW --shadow [--swap]` end to end on a data folder whose views were built from a seeded archive."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import app

pytestmark = pytest.mark.integration


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OMS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("OMS_DATABASE_URL", raising=False)
    monkeypatch.delenv("OMS_KAFKA_BOOTSTRAP", raising=False)
    assert CliRunner().invoke(app, ["seed-history", "--orders", "40"]).exit_code == 0
    assert CliRunner().invoke(app, ["replay", "all", "--into", f"sqlite:///{tmp_path / 'oms.sqlite3'}"]).exit_code == 0
    return tmp_path


def test_shadow_reports_no_difference_then_a_planted_one_then_swaps_it_away(data_dir: Path) -> None:
    agreed = CliRunner().invoke(app, ["replay", "orders", "--shadow"])
    assert agreed.exit_code == 0, agreed.output
    assert agreed.output.strip().endswith("0 differences")

    with sqlite3.connect(data_dir / "oms.sqlite3") as live:
        [(order_id, status)] = live.execute("SELECT order_id, status FROM orders ORDER BY order_id LIMIT 1")
        live.execute("UPDATE orders SET status = 'lost' WHERE order_id = ?", (order_id,))
    differs = CliRunner().invoke(app, ["replay", "orders", "--shadow"])
    assert differs.exit_code == 1
    assert f"orders [order_id={order_id}] changed status: live 'lost', shadow '{status}'" in differs.output
    assert differs.output.strip().endswith("1 difference")

    swapped = CliRunner().invoke(app, ["replay", "orders", "--shadow", "--swap"])
    assert swapped.exit_code == 0 and "the shadow is live" in swapped.output
    with sqlite3.connect(data_dir / "oms.sqlite3") as live:
        assert live.execute("SELECT status FROM orders WHERE order_id = ?", (order_id,)).fetchone() == (status,)
    assert CliRunner().invoke(app, ["replay", "all", "--shadow"]).output.strip().endswith("0 differences")


def test_swap_needs_a_shadow(data_dir: Path) -> None:
    refused = CliRunner().invoke(app, ["replay", "orders", "--swap"])
    assert refused.exit_code == 2 and "--shadow" in refused.output
