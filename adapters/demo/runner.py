"""Runs the demo: broker, workers, projections, API and traffic, with live counters (a plain progress line when
the output is not a terminal)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
from datetime import datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.console import Console
from rich.live import Live
from sqlalchemy import Engine

from adapters.bootstrap import ensure_pipeline_topics
from adapters.bootstrap.demo import Demo
from adapters.demo.restore import archived_count, restore_log, wait_until_archived
from adapters.demo.supervisor import Supervisor
from adapters.demo.tally import Tally, counters_table, progress_line
from adapters.demo.traffic import Simulator
from adapters.kafka.offsets import log_end_offsets
from adapters.settings import Settings
from events import DecodeError, Event, EventData, decode, encode, topics


class TopicPublisher:
    def __init__(self, producer: AIOKafkaProducer, settings: Settings) -> None:
        self.producer = producer
        self.settings = settings

    async def __call__(self, events: list[Event[EventData]]) -> None:
        pending = [
            await self.producer.send(self.settings.topic(e.topic), key=e.subject.encode(), value=encode(e))
            for e in events
        ]
        await asyncio.gather(*pending)


async def watch(bootstrap: str, topic_names: list[str], tally: Tally, simulator: Simulator) -> None:
    """Counts every event on the watched topics from the start of the log, and lets the simulated carrier deliver
    what this run shipped (what an earlier run shipped was dealt with then)."""
    consumer = AIOKafkaConsumer(*topic_names, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        async for record in consumer:
            try:
                event = decode(record.value)
            except DecodeError:
                tally.add_undecodable(record.topic, record.partition, record.offset)
                continue
            if tally.add(record.topic, record.partition, record.offset, event):
                react(event, simulator)
    finally:
        await consumer.stop()


def react(event: Event[EventData], simulator: Simulator) -> None:
    if event.type == "oms.order.shipped":
        simulator.deliver(event.subject, event.data.tracking_number)  # type: ignore[attr-defined]
    elif event.type == "oms.stock.low":
        simulator.reorder(event.subject, event.data.suggested_reorder_qty)  # type: ignore[attr-defined]


async def run_demo(demo: Demo, rate: float, seconds: float | None, console: Console) -> bool:
    """Run until Ctrl-C or `seconds`; False when a process of the demo stopped by itself."""
    settings, bootstrap = demo.settings, demo.bootstrap
    await ensure_pipeline_topics(demo.pipeline)
    archive = demo.archive()
    restarted = archived_count(archive) > 0
    if restarted:
        restored = await restore_log(archive, bootstrap, settings.topic_prefix)
        console.print(f"restored {restored} events from the history archive into the embedded broker")
    watched = [settings.topic(t) for t in (topics.ORDERS, topics.NOTIFICATIONS, topics.DEADLETTER, topics.INVENTORY)]
    tally = Tally(run_starts=await log_end_offsets(bootstrap, watched))
    supervisor = Supervisor(demo.child_environment(), demo.log_dir)
    supervisor.start("worker", "worker")  # each child builds itself from the settings in its environment
    supervisor.start("projector", "project")
    supervisor.start("api", "api")
    dashboard_url = f"{demo.base_url}/dashboard"
    say = functools.partial(console.print, soft_wrap=True)  # a URL, path or key is never broken across lines
    say(f"[bold]oms demo[/] broker {bootstrap}, data in {settings.data_dir}, logs in {supervisor.log_dir}")
    say(f"dashboard {dashboard_url}  API {demo.base_url}/docs")
    say(f"ops key (dashboard log-in with no user name, Authorization: Bearer …): {demo.api_key}")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=5)
    await producer.start()
    simulator = Simulator(TopicPublisher(producer, settings), rate_per_s=rate, opening_stock=not restarted)
    traffic = asyncio.create_task(simulator.run(stop))
    watching = asyncio.create_task(watch(bootstrap, watched, tally, simulator))
    failures: list[str] = []
    try:
        failures = await show_until_stopped(tally, supervisor, stop, seconds, console, dashboard_url)
    finally:
        stop.set()
        await asyncio.gather(traffic, return_exceptions=True)
        await producer.stop()
        await settle(settings, bootstrap, archive, supervisor, console)
        with contextlib.suppress(Exception):  # the last counts, once the pipeline is quiet (best effort)
            await read_to_the_end(tally, bootstrap, watched, watching)
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        supervisor.stop_all()
        archive.dispose()
        console.print(counters_table(tally, dashboard_url))  # the final counts, once the pipeline is quiet
        console.print("demo stopped; nothing left running")
    return not failures


async def show_until_stopped(
    tally: Tally,
    supervisor: Supervisor,
    stop: asyncio.Event,
    seconds: float | None,
    console: Console,
    url: str,
    progress_every_s: float = 5.0,
) -> list[str]:
    """The live table on a terminal, a plain progress line every `progress_every_s` elsewhere (a pipe, `tee`, a
    log), until `stop`, `seconds`, or a child stopping by itself (returned: what each one said last)."""
    live = Live(counters_table(tally, url), console=console, transient=True) if console.is_terminal else None
    elapsed, tick, next_progress = 0.0, 0.5, progress_every_s
    with live or contextlib.nullcontext():
        while not stop.is_set() and (seconds is None or elapsed < seconds):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=tick)
            elapsed += tick
            if live is not None:
                live.update(counters_table(tally, url))
            elif elapsed >= next_progress:
                next_progress += progress_every_s
                console.print(progress_line(tally, datetime.now()), markup=False, highlight=False, soft_wrap=True)
            failures = supervisor.unexpected_stops()
            for failure in failures:
                console.print(f"[red]{failure}[/]", highlight=False, soft_wrap=True)
            if failures:
                return failures
    return []


async def read_to_the_end(
    tally: Tally, bootstrap: str, topic_names: list[str], watching: asyncio.Task[None], seconds: float = 10.0
) -> None:
    """Wait until the watch has counted every event on the log now (its true end: tansu's answer falls short)."""
    ends = await log_end_offsets(bootstrap, topic_names)
    async with asyncio.timeout(seconds):
        while not tally.has_read(ends) and not watching.done():
            await asyncio.wait([watching], timeout=0.1)


async def settle(settings: Settings, bootstrap: str, archive: Engine, supervisor: Supervisor, console: Console) -> None:
    """Wait until the archive holds every event, so that a restart on this data folder misses none. Only the
    projector writes the archive: whatever else stopped, it is waited for while it runs."""
    if not supervisor.is_running("projector"):
        console.print("[red]the projector is not running: a restart may miss the newest events")
        return
    archived_topics = [settings.topic(t) for t in (*topics.PUBLIC_TOPICS, topics.ORDER_REPLIES)]
    console.print("waiting for the pipeline to settle and the archive to hold every event…")
    if not await wait_until_archived(archive, bootstrap, archived_topics, seconds=45):
        console.print("[red]the archive did not catch up in 45 s; a restart may miss the newest events")
