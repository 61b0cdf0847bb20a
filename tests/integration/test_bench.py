"""`oms bench` at a tiny size, so that it cannot rot: it runs end to end and its JSON has the figures."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer import Typer
from typer.testing import CliRunner

from adapters.cli.bench_cmd import register

pytestmark = pytest.mark.integration


def test_bench_runs_at_a_tiny_size_and_writes_its_figures(tmp_path: Path) -> None:
    app = Typer()
    register(app)
    app.command("noop", hidden=True)(lambda: None)  # keeps `bench` a subcommand
    out = tmp_path / "bench.json"
    args = ["bench", "--orders", "200", "--rate", "100", "--latency-seconds", "1", "--baseline-messages", "500"]
    result = CliRunner().invoke(app, [*args, "--partitions", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "orders/s end to end" in result.output

    figures = orjson.loads(out.read_bytes())
    assert figures["orders_done"] == 200 and figures["complete"]
    assert figures["views_shipped"] == 200
    for key in ("orders_per_s", "events_per_s", "worker_input_events_per_s", "peak_rss_mb"):
        assert figures[key] > 0, key
    for key in ("placed_to_confirmed_ms", "placed_to_projected_ms"):
        assert 0 < figures["latency"][key]["p50"] <= figures["latency"][key]["p99"], key
    for name in ("raw_aiokafka", "faust_agent"):
        assert figures["baselines"][name]["events_per_s"] > 0, name
    assert figures["ratios"]["worker_vs_faust_agent"] > 0
