"""`oms bench`: orders through the whole pipeline on the embedded broker, against two baselines."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

console = Console(width=max(Console().width, 110))

TARGET_ORDERS_PER_S = 1000.0
TARGET_FAUST_RATIO = 5.0
TARGET_P99_CONFIRMED_MS = 250.0


def register(app: typer.Typer) -> None:
    """Add `oms bench` to `app`."""
    app.command("bench")(bench)


def bench(
    orders: int = typer.Option(20_000, "--orders", min=1, help="Paid orders for the throughput phase."),
    rate: float = typer.Option(300.0, "--rate", min=1.0, help="Offered orders/s in the latency phase."),
    latency_seconds: float = typer.Option(10.0, "--latency-seconds", min=0.1, help="Length of the latency phase."),
    baseline_messages: int = typer.Option(
        20_000, "--baseline-messages", min=1, help="Messages through each baseline (raw aiokafka, faust agent)."
    ),
    partitions: int = typer.Option(
        4, "--partitions", min=1, help="Partitions per topic (at least --workers; fewer batches for the broker)."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        max=8,
        help="`oms worker` processes sharing the partitions (default: one per core, at most --partitions); "
        "the ratio to the baselines is per worker.",
    ),
    projections: list[str] = typer.Option(
        ["orders"], "--projection", help="Projections the projector runs: orders, inventory, archive (repeatable)."
    ),
    json_path: Path | None = typer.Option(None, "--json", help="Also write the figures as JSON to this file."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Keep logs and views here (default: a temporary folder, removed)."
    ),
) -> None:
    """Drive N paid orders through broker, worker and projector; report orders/s, latency, memory, baselines."""
    from adapters.bench import BenchOptions, run_bench
    from adapters.bench.observe import BenchFailed
    from adapters.bench.runner import PROJECTIONS

    unknown = [name for name in projections if name not in PROJECTIONS]
    if unknown or "orders" not in projections:
        raise typer.BadParameter(f"projections are among {PROJECTIONS} and include orders")
    if workers is not None and workers > partitions:
        raise typer.BadParameter(f"{workers} workers need at least as many partitions (--partitions {partitions})")
    options = BenchOptions(
        orders=orders,
        rate=rate,
        latency_seconds=latency_seconds,
        baseline_messages=baseline_messages,
        partitions=partitions,
        workers=workers,
        projections=tuple(projections),
        data_dir=data_dir,
    )
    try:
        result = asyncio.run(run_bench(options, say=lambda line: console.print(line, style="dim")))
    except BenchFailed as failed:
        console.print(f"[red]bench failed:[/] {failed}")
        raise typer.Exit(1) from None
    console.print(result_table(result))
    if json_path is not None:
        json_path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
        console.print(f"wrote {json_path}", style="dim")


def _verdict(ok: bool | None) -> str:
    if ok is None:
        return ""
    return "[green]met[/]" if ok else "[red]missed[/]"


def result_table(result: dict[str, Any]) -> Table:
    latency = result.get("latency", {})
    confirmed = latency.get("placed_to_confirmed_ms", {})
    projected = latency.get("placed_to_projected_ms", {})
    baselines = result.get("baselines", {})
    ratios = result.get("ratios", {})
    faust_ratio = ratios.get("worker_vs_faust_agent")
    raw_ratio = ratios.get("worker_vs_raw_aiokafka")
    table = Table(title=f"oms bench: {result['orders']} orders, {result['machine']['cpus']} cpus")
    for column in ("figure", "value", "target", ""):
        table.add_column(column)

    def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
        table.add_row(name, value, target, _verdict(ok))

    rate = result["orders_per_s"]
    row("orders/s end to end (placed -> projected)", f"{rate:,.0f}", f">= {TARGET_ORDERS_PER_S:,.0f}", rate >= 1000)
    row("orders through / seconds", f"{result['orders_done']} / {result['seconds']:.1f} s")
    row("first order all the way through after", f"{result['first_order_done_s']:.1f} s")
    row("events/s on all topics", f"{result['events_per_s']:,.0f} ({result['events_per_order']} per order)")
    workers = result.get("workers", 1)
    row(
        f"worker input events/s ({workers} worker{'s' if workers > 1 else ''})",
        f"{result['worker_input_events_per_s']:,.0f}",
    )
    row("changelog writes/s", f"{result['changelog_writes_per_s']:,.0f}")
    p99 = confirmed.get("p99", 0.0)
    offered = f"at {latency.get('offered_rate', 0):g}/s"
    row(
        f"placed -> confirmed p50/p95/p99 {offered}",
        f"{confirmed.get('p50', 0):.0f} / {confirmed.get('p95', 0):.0f} / {p99:.0f} ms",
        f"p99 <= {TARGET_P99_CONFIRMED_MS:.0f} ms",
        p99 <= TARGET_P99_CONFIRMED_MS,
    )
    row(
        f"placed -> projected p50/p95/p99 {offered}",
        f"{projected.get('p50', 0):.0f} / {projected.get('p95', 0):.0f} / {projected.get('p99', 0):.0f} ms",
    )
    rss = result["peak_rss_by_process_mb"]
    parts = " + ".join(f"{rss[name]:.0f}" for name in rss if name.startswith("worker") or name == "projector")
    row("peak RSS workers + projector", f"{result['peak_rss_mb']:,.0f} MB ({parts})")
    cpu = result["cpu_seconds"]
    row("CPU s in throughput phase", ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items()))
    for name, label in (("raw_aiokafka", "baseline raw aiokafka loop"), ("faust_agent", "baseline idiomatic faust")):
        if name in baselines:
            row(f"{label} events/s", f"{baselines[name]['events_per_s']:,.0f}")
    if faust_ratio is not None:
        row("per worker / faust-agent events/s", f"{faust_ratio:.2f}x", f">= {TARGET_FAUST_RATIO:g}x", faust_ratio >= 5)
    if raw_ratio is not None:
        row("per worker / raw-aiokafka events/s", f"{raw_ratio:.3f}x")
    return table


def _standalone() -> typer.Typer:  # `python -m adapters.cli.bench_cmd` until the command is registered
    app = typer.Typer(add_completion=False)
    register(app)
    app.command("noop", hidden=True)(lambda: None)
    return app


if __name__ == "__main__":
    _standalone()()
