"""`oms bench` refuses options that would measure something else than they say, before starting anything."""

from __future__ import annotations

import os

from typer import Typer
from typer.testing import CliRunner

from adapters.bench import BenchOptions
from adapters.cli.bench_cmd import register


def _bench_app() -> Typer:
    app = Typer()
    register(app)
    app.command("noop", hidden=True)(lambda: None)  # keeps `bench` a subcommand
    return app


def test_more_workers_than_partitions_is_refused() -> None:
    result = CliRunner().invoke(_bench_app(), ["bench", "--workers", "3", "--partitions", "2"])
    assert result.exit_code == 2
    assert "3 workers need at least as many partitions" in result.output


def test_projections_must_include_orders() -> None:
    result = CliRunner().invoke(_bench_app(), ["bench", "--projection", "inventory"])
    assert result.exit_code == 2
    assert "include orders" in result.output


def test_the_bench_runs_one_worker_per_core_by_default_but_never_more_than_partitions() -> None:
    assert BenchOptions(workers=3, partitions=4).worker_count() == 3
    assert BenchOptions(partitions=1).worker_count() == 1
    assert BenchOptions(partitions=64).worker_count() == (os.cpu_count() or 1)
