"""The read-side commands end to end on a seeded archive (no broker needed)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import orjson
import pytest
from typer.testing import CliRunner

from adapters.cli import app


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OMS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("OMS_DATABASE_URL", raising=False)
    monkeypatch.delenv("OMS_KAFKA_BOOTSTRAP", raising=False)
    return tmp_path


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_seed_replay_read_and_export(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "archived" in run("seed-history", "--orders", "60")
    views = data_dir / "views.sqlite3"
    assert "events/s" in run("replay", "all", "--into", f"sqlite:///{views}")
    again = CliRunner().invoke(app, ["replay", "inventory", "--into", f"sqlite:///{views}"])
    assert again.exit_code == 2, "a replay refuses a database that already holds the view"

    monkeypatch.setenv("OMS_DATABASE_URL", f"sqlite:///{views}")  # views (and archive) in the replayed file
    listed = orjson.loads(run("orders", "list", "--status", "delivered", "--json"))
    assert listed["total"] > 0 and all(o["status"] == "delivered" for o in listed["items"])
    order_id = listed["items"][0]["order_id"]
    shown = orjson.loads(run("orders", "show", order_id, "--json"))
    assert shown["timeline"][0]["type"] == "oms.order.placed"
    assert order_id in run("orders", "show", order_id)
    sku = shown["lines"][0]["sku"]
    assert orjson.loads(run("inventory", "show", sku, "--json"))["sku"] == sku

    monkeypatch.delenv("OMS_DATABASE_URL")
    assert orjson.loads(run("history", order_id, "--json"))[0]["type"] == "oms.order.placed"
    assert order_id in run("history", order_id)
    before = orjson.loads(run("history", "--sku", sku, "--at", "2026-01-05T08:00:00Z", "--json"))
    assert before["on_hand"] == 0
    as_was = orjson.loads(run("history", order_id, "--at", shown["timeline"][0]["time"], "--json"))
    assert as_was["order_id"] == order_id

    out = data_dir / "history"
    run("export", "--format", "parquet", "--out", str(out))
    [(count,)] = duckdb.sql(f"select count(*) from read_parquet('{out}/**/*.parquet')").fetchall()
    assert count > 500


def test_project_needs_a_broker(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["project"])
    assert result.exit_code == 2 and "OMS_KAFKA_BOOTSTRAP" in result.output
