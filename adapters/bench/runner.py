"""The bench run: broker, worker and projector as children, the warm-up, the phases and the baselines (the figures
not of a phase are in `figures`)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.bench.baselines import run_baselines
from adapters.bench.figures import add_ratios, delta, log_sizes, machine, worker_inputs
from adapters.bench.load import Catalogue, OrderMaker, producer_for, send_at_rate, send_batch, stock_messages
from adapters.bench.observe import BenchFailed, Tracker, percentiles
from adapters.bench.procs import Child, Usage, oms_child
from adapters.bootstrap import ensure_pipeline_topics, pipeline_config
from adapters.kafka.broker import EmbeddedBroker
from adapters.settings import Settings
from events import topics

PROJECTIONS = ("orders", "inventory", "archive")


@dataclass(frozen=True)
class BenchOptions:
    orders: int = 20_000
    rate: float = 300.0
    latency_seconds: float = 10.0
    baseline_messages: int = 20_000
    # Four, not the topics' usual eight: the embedded broker's cost grows with the number of record batches,
    # and the same output spread over fewer partitions goes in fewer, larger batches (BENCHMARKS.md).
    partitions: int = 4
    skus: int = 200
    projections: tuple[str, ...] = ("orders",)
    warmup_orders: int = 20
    data_dir: Path | None = None
    keep_data: bool = False
    startup_timeout_s: float = 90.0
    phase_timeout_s: float = 240.0
    skip_baselines: bool = False
    workers: int | None = None  # None: one per core, at most one per partition

    def worker_count(self) -> int:
        """`workers`, or one per core: a worker's four stages share one event loop, which one core runs."""
        return self.workers or min(os.cpu_count() or 1, self.partitions)


class Bench:
    def __init__(self, options: BenchOptions, say: Callable[[str], None]) -> None:
        self.options = options
        self.say = say
        self.workdir = options.data_dir or Path(tempfile.mkdtemp(prefix="oms-bench-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.prefix = f"bench{uuid.uuid4().hex[:6]}."
        self.catalogue = Catalogue.make(options.skus)
        self.children: list[Child] = []
        self.broker = EmbeddedBroker(log_path=self.workdir / "broker.log")

    def check_children(self) -> None:
        for child in self.children:
            if not child.alive:
                raise BenchFailed(f"{child.name} exited:\n{child.log_tail()}")

    async def run(self) -> dict[str, Any]:
        options = {**_options_json(self.options), "workers": self.options.worker_count()}
        result: dict[str, Any] = {"machine": machine(), "options": options}
        self.broker.start()
        try:
            result.update(await self._pipeline_phases())
            if not self.options.skip_baselines:
                result.update(await self._baselines())
        finally:
            for child in reversed(self.children):
                child.stop()
            self.broker.stop()
            if not self.options.keep_data and self.options.data_dir is None:
                shutil.rmtree(self.workdir, ignore_errors=True)
        add_ratios(result)
        return result

    async def _pipeline_phases(self) -> dict[str, Any]:
        options, bootstrap = self.options, self.broker.bootstrap
        settings = Settings(topic_prefix=self.prefix, partitions=options.partitions, data_dir=self.workdir)
        await ensure_pipeline_topics(pipeline_config(settings, bootstrap))
        views_db = self.workdir / "oms.sqlite3"
        workers, projector = self._start_children(views_db)
        usage = Usage(
            {
                **{_worker_name(n): w.pid for n, w in enumerate(workers)},
                "projector": projector.pid,
                "broker": self.broker.pid or 0,
                "bench": os.getpid(),
            }
        )
        sampling = asyncio.create_task(_sample(usage))
        tracker = Tracker(bootstrap, self.prefix, views_db)
        await tracker.start()
        producer = producer_for(bootstrap)
        await producer.start()
        try:
            maker = OrderMaker(self.catalogue, self.prefix)
            await self._warm_up(producer, maker, tracker, workers[0])
            latency = await self._latency_phase(producer, maker, tracker)
            throughput = await self._throughput_phase(producer, maker, tracker, usage, views_db)
        finally:
            await producer.stop()
            await tracker.stop()
            sampling.cancel()
        for child in (projector, *workers):
            child.stop()
        return {**throughput, "latency": latency}

    def _start_children(self, views_db: Path) -> tuple[list[Child], Child]:
        """The workers and the projector, started against the broker, with the views in `views_db`."""
        options, bootstrap = self.options, self.broker.bootstrap
        env = {
            "OMS_KAFKA_BOOTSTRAP": bootstrap,
            "OMS_TOPIC_PREFIX": self.prefix,
            "OMS_DATA_DIR": str(self.workdir),
            "OMS_DATABASE_URL": f"sqlite:///{views_db}",
            "OMS_PARTITIONS": str(options.partitions),
            "OMS_LOG_LEVEL": "WARNING",
        }
        only = [arg for name in options.projections for arg in ("--only", name)]
        workers = [
            oms_child(_worker_name(n), ["worker", "--loglevel", "warn"], env, self.workdir).start()
            for n in range(options.worker_count())
        ]
        projector = oms_child("projector", ["project", "--bootstrap", bootstrap, *only], env, self.workdir).start()
        self.children += [*workers, projector]
        pids = ", ".join(str(w.pid) for w in workers)
        self.say(f"broker {bootstrap}, worker pid {pids}, projector pid {projector.pid}, data {self.workdir}")
        return workers, projector

    async def _warm_up(self, producer: Any, maker: OrderMaker, tracker: Tracker, worker: Child) -> None:
        """Stock for every sku, then a few orders all the way through: the children answer."""
        options = self.options
        await send_batch(producer, stock_messages(self.catalogue, self.prefix))
        started = time.monotonic()
        warm = [maker.make(f"w-{i:05d}", i) for i in range(options.warmup_orders)]
        await send_batch(producer, warm)
        if not await tracker.wait_done("w-", len(warm), options.startup_timeout_s, self.check_children):
            raise BenchFailed(f"warm-up orders not through in {options.startup_timeout_s}s:\n{worker.log_tail()}")
        self.say(f"warm: worker and projector answer after {time.monotonic() - started:.1f}s")

    async def _latency_phase(self, producer: Any, maker: OrderMaker, tracker: Tracker) -> dict[str, Any]:
        options = self.options
        count = max(1, round(options.rate * options.latency_seconds))
        self.say(f"latency: {count} orders at {options.rate:g}/s")
        ids = [f"l-{i:07d}" for i in range(count)]

        def make(index: int) -> tuple[str, bytes, bytes]:
            return maker.make(ids[index], index)

        def sent(index: int, key: bytes, at: float) -> None:
            tracker.placed(ids[index], at)

        started = time.monotonic()
        await send_at_rate(producer, count, options.rate, make, sent)
        offered_s = time.monotonic() - started
        if not await tracker.wait_done("l-", count, options.phase_timeout_s, self.check_children):
            through = tracker.done_count("l-")
            raise BenchFailed(f"latency phase: {through} of {count} orders through; {tracker.stuck(ids)}")
        times = [tracker.orders[order_id] for order_id in ids]
        confirmed = [t.confirmed - t.placed for t in times if t.confirmed is not None and t.placed is not None]
        projected = [t.projected_shipped - t.placed for t in times if t.projected_shipped and t.placed]
        done = [t.done - t.placed for t in times if t.done is not None and t.placed is not None]
        return {
            "offered_rate": options.rate,
            "orders": count,
            "offered_seconds": round(offered_s, 2),
            "placed_to_confirmed_ms": percentiles(confirmed),
            "placed_to_projected_ms": percentiles(projected),
            "placed_to_done_ms": percentiles(done),
        }

    async def _throughput_phase(
        self, producer: Any, maker: OrderMaker, tracker: Tracker, usage: Usage, views_db: Path
    ) -> dict[str, Any]:
        options, bootstrap = self.options, self.broker.bootstrap
        tracker.poll_interval_s = 0.05
        orders = [maker.make(f"t-{i:07d}", i) for i in range(options.orders)]
        self.say(f"throughput: {len(orders)} orders as fast as they go")
        before = await log_sizes(bootstrap, self.prefix)
        usage.begin()
        started = time.time()
        for start in range(0, len(orders), 5000):
            await send_batch(producer, orders[start : start + 5000])
        produced_s = time.time() - started
        complete = await tracker.wait_done("t-", len(orders), options.phase_timeout_s, self.check_children)
        usage.end()
        done = sorted(at for at, order_id in tracker.done_times if order_id.startswith("t-"))
        if not done:
            raise BenchFailed("throughput phase: no order went all the way through")
        elapsed = done[-1] - started
        after = await log_sizes(bootstrap, self.prefix)
        moved = delta(before, after)
        public = {self.prefix + name for name in topics.PUBLIC_TOPICS} | {f"{self.prefix}oms-pipeline-order-replies"}
        on_logs = sum(n for name, n in moved.items() if name in public)
        changelog = sum(n for name, n in moved.items() if name.endswith("-changelog"))
        consumed = worker_inputs(moved, self.prefix)
        with sqlite3.connect(views_db) as conn:
            shipped = conn.execute(
                "SELECT count(*) FROM orders WHERE order_id LIKE 't-%' AND status = 'shipped'"
            ).fetchone()[0]
        return {
            "orders": options.orders,
            "orders_done": len(done),
            "complete": complete,
            "seconds": round(elapsed, 2),
            "produce_seconds": round(produced_s, 2),
            "orders_per_s": round(len(done) / elapsed, 1),
            "first_order_done_s": round(done[0] - started, 2),
            "events_per_s": round(on_logs / elapsed, 1),
            "events": on_logs,
            "events_per_order": round(on_logs / max(1, len(done)), 2),
            "workers": options.worker_count(),
            "worker_input_events_per_s": round(consumed / elapsed, 1),
            "changelog_writes_per_s": round(changelog / elapsed, 1),
            "views_shipped": shipped,
            "peak_rss_mb": round(usage.peak_rss_kb / 1024, 1),
            "peak_rss_by_process_mb": {k: round(v / 1024, 1) for k, v in usage.peak_rss_by_name_kb.items()},
            "cpu_seconds": {k: round(v, 2) for k, v in usage.cpu_s.items()},
            "topic_messages": moved,
        }

    async def _baselines(self) -> dict[str, Any]:
        options = self.options
        self.say(f"baselines: {options.baseline_messages} messages through a raw aiokafka loop and a faust agent")
        rates = await run_baselines(
            self.broker.bootstrap,
            self.prefix,
            options.baseline_messages,
            options.partitions,
            self.workdir,
            self.catalogue,
        )
        return {
            "baselines": {
                name: {"events": r.events, "seconds": round(r.seconds, 3), "events_per_s": round(r.per_s, 1)}
                for name, r in rates.items()
            }
        }


def _worker_name(index: int) -> str:
    return "worker" if index == 0 else f"worker-{index + 1}"


def _options_json(options: BenchOptions) -> dict[str, Any]:
    return {
        key: (str(value) if isinstance(value, Path) else list(value) if isinstance(value, tuple) else value)
        for key, value in options.__dict__.items()
    }


async def _sample(usage: Usage) -> None:
    while True:
        usage.sample(summed=("projector", *(name for name in usage.pids if name.startswith("worker"))))
        await asyncio.sleep(0.2)


async def run_bench(options: BenchOptions, say: Callable[[str], None] = print) -> dict[str, Any]:
    return await Bench(options, say).run()
