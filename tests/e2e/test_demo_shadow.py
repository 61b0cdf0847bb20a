"""After a real `oms demo` run: the analysts' export has one row per event id, and `oms replay orders --shadow`
reports 0 differences, then the row and field of a change made by hand to the live view."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from adapters.kafka.broker import free_port

pytestmark = pytest.mark.slow


def oms(data_dir: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMS_DATA_DIR": str(data_dir), "OMS_API_PORT": str(free_port())}
    env.pop("OMS_KAFKA_BOOTSTRAP", None)
    env.pop("OMS_DATABASE_URL", None)
    command = [sys.executable, "-m", "adapters.cli.main", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_after_the_demo_the_export_has_one_row_per_event_and_the_shadow_agrees(tmp_path: Path) -> None:
    demo = oms(tmp_path, "demo", "--rate", "8", "--seconds", "12", timeout=90)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]

    exported = oms(tmp_path, "export", "--out", str(tmp_path / "export"))
    assert exported.returncode == 0, exported.stderr
    events = f"read_parquet('{tmp_path / 'export'}/**/*.parquet', hive_partitioning = true)"
    [(rows, ids)] = duckdb.sql(f"SELECT count(*), count(DISTINCT event_id) FROM {events}").fetchall()
    with sqlite3.connect(tmp_path / "history.sqlite3") as history:
        [(archived, public_ids)] = history.execute(
            "SELECT count(*), count(DISTINCT event_id) FILTER (WHERE topic LIKE 'oms.%') FROM event_archive"
        )
    assert rows == ids == public_ids and archived > rows, (rows, ids, public_ids, archived)

    agreed = oms(tmp_path, "replay", "orders", "--shadow")
    assert agreed.returncode == 0 and agreed.stdout.strip().endswith("0 differences"), agreed.stdout + agreed.stderr
    with sqlite3.connect(tmp_path / "oms.sqlite3") as live:
        [(order_id, status)] = live.execute("SELECT order_id, status FROM orders ORDER BY order_id LIMIT 1")
        live.execute("UPDATE orders SET status = 'lost' WHERE order_id = ?", (order_id,))
    differs = oms(tmp_path, "replay", "orders", "--shadow")
    assert differs.returncode == 1
    assert f"[order_id={order_id}] changed status: live 'lost', shadow '{status}'" in differs.stdout
