"""`oms demo` stopped mid-traffic and started again on the same data folder carries on with the same
state, although the embedded broker forgot its log: nothing lost, no effect repeated, no view counting twice."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.kafka.broker import free_port

pytestmark = pytest.mark.slow

Row = tuple[str, int, int, str | None, str | None, str]

# What must happen at most once, and what identifies "the same effect".
ONCE: dict[str, Callable[[dict[str, Any]], object]] = {
    "oms.stock.reserved": lambda d: (d["order_id"], d["sku"]),
    "oms.stock.committed": lambda d: (d["order_id"], d["sku"]),
    "oms.order.confirmed": lambda d: d["order_id"],
    "oms.shipment.dispatched": lambda d: d["shipment_id"],
    "oms.order.shipped": lambda d: d["shipment_id"],
    "oms.notification.sent": lambda d: d["request_id"],
    "oms.refund.issued": lambda d: d["order_id"],
}


def run_demo(data_dir: Path, seconds: int) -> str:
    env = {**os.environ, "OMS_DATA_DIR": str(data_dir), "OMS_API_PORT": str(free_port()), "OMS_API_KEYS": "k"}
    env.pop("OMS_KAFKA_BOOTSTRAP", None)
    done = subprocess.run(
        [sys.executable, "-m", "adapters.cli.main", "demo", "--rate", "8", "--seconds", str(seconds)],
        env=env,
        capture_output=True,
        timeout=180,
    )
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, output
    return output


def archived(data_dir: Path) -> list[Row]:
    with sqlite3.connect(data_dir / "history.sqlite3") as conn:
        query = "SELECT topic, partition, offset, event_id, type, value FROM event_archive"
        return sorted(conn.execute(query))


def public(rows: list[Row]) -> list[Row]:
    return [row for row in rows if row[0].startswith("oms.")]


def repeated_effects(rows: list[Row]) -> dict[tuple[str, object], set[str]]:
    ids: dict[tuple[str, object], set[str]] = defaultdict(set)
    for _topic, _partition, _offset, event_id, kind, value in public(rows):
        if event_id and kind in ONCE:
            ids[(kind, ONCE[kind](json.loads(value)["data"]))].add(event_id)
    return {effect: found for effect, found in ids.items() if len(found) > 1}


def never_oversold(rows: list[Row]) -> bool:
    on_hand: dict[str, int] = defaultdict(int)
    reserved: dict[str, int] = defaultdict(int)
    seen: set[str] = set()
    for topic, _partition, _offset, event_id, kind, value in rows:
        if topic != "oms.inventory" or not event_id or event_id in seen:
            continue
        seen.add(event_id)
        data = json.loads(value)["data"]
        sku = data["sku"]
        if kind in ("oms.stock.received", "oms.stock.returned"):
            on_hand[sku] += data["qty"]
        elif kind == "oms.stock.adjusted":
            on_hand[sku] += data["delta"]
        elif kind == "oms.stock.reserved":
            reserved[sku] += data["qty"]
        elif kind == "oms.stock.released" and data["was_reserved"]:
            reserved[sku] -= data["qty"]
        elif kind == "oms.stock.committed":
            on_hand[sku] -= data["qty"]
            reserved[sku] -= data["qty"]
        if reserved[sku] > on_hand[sku]:
            return False
    return True


def shown_counts(output: str, row: str) -> tuple[int, int]:
    """(this run, all) of a row of the counters table the demo prints when it stops."""
    [line] = [line for line in output.splitlines() if line.strip(" │|").startswith(row)]
    this_run, everything = (int(n) for n in re.findall(r"\d+", line))
    return this_run, everything


def test_a_restarted_demo_carries_on_with_the_same_state(tmp_path: Path) -> None:
    first_output = run_demo(tmp_path, seconds=14)
    first = archived(tmp_path)
    placed_first = {json.loads(r[5])["data"]["order_id"] for r in public(first) if r[4] == "oms.order.placed"}
    assert placed_first, "the first run placed no order"
    assert shown_counts(first_output, "orders placed") == (len(placed_first), len(placed_first)), first_output

    output = run_demo(tmp_path, seconds=12)
    assert "restored" in output
    second = archived(tmp_path)

    by_position = {row[:3]: row for row in second}
    assert all(by_position.get(row[:3]) == row for row in first), "the log did not come back as it was"
    placed = {json.loads(r[5])["data"]["order_id"] for r in public(second) if r[4] == "oms.order.placed"}
    assert placed > placed_first, "the second run did not carry on"
    # Issue 16, item 1: every row counts this run and the whole log apart, never one of each.
    assert shown_counts(output, "orders placed") == (len(placed - placed_first), len(placed)), output

    # The restarted processors skip what they had applied: nothing of the first run is emitted again.
    first_ids = {row[3] for row in public(first)}
    new_rows = [row for row in public(second) if row[:3] not in {r[:3] for r in first}]
    assert not [row for row in new_rows if row[3] in first_ids], "an event of the first run was emitted again"
    assert repeated_effects(second) == {}
    assert never_oversold(second)
    sent = {json.loads(r[5])["data"]["request_id"] for r in public(second) if r[4] == "oms.notification.sent"}
    assert {p.stem for p in (tmp_path / "outbox").glob("*.eml")} == sent, "a notice was sent twice or lost"

    with sqlite3.connect(tmp_path / "oms.sqlite3") as views:
        assert views.execute("SELECT count(*) FROM orders").fetchone()[0] == len(placed)
        assert views.execute("SELECT sum(orders_count) FROM customers").fetchone()[0] == len(placed)
        assert views.execute("SELECT count(*) FROM inventory WHERE reserved > on_hand").fetchone()[0] == 0
