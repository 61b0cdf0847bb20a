"""Runs the demo: broker, workers, projections, API and traffic, with live counters."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
from collections import Counter
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from adapters.bootstrap import ensure_pipeline_topics, pipeline_config
from adapters.demo.restore import archived_count, restore_log, wait_until_archived
from adapters.demo.supervisor import Supervisor
from adapters.demo.traffic import Simulator
from adapters.settings import Settings
from adapters.sql import archive_engine
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


async def watch(bootstrap: str, settings: Settings, counters: Counter[str], simulator: Simulator) -> None:
    """Counts what the pipeline emits, and lets the simulated carrier deliver what was shipped."""
    watched = [settings.topic(t) for t in (topics.ORDERS, topics.NOTIFICATIONS, topics.DEADLETTER, topics.INVENTORY)]
    consumer = AIOKafkaConsumer(*watched, bootstrap_servers=bootstrap, auto_offset_reset="latest")
    await consumer.start()
    seen: set[str] = set()
    try:
        async for record in consumer:
            try:
                event = decode(record.value)
            except DecodeError:
                counters["undecodable"] += 1
                continue
            if str(event.id) in seen:
                continue
            seen.add(str(event.id))
            counters[event.type] += 1
            if event.type == "oms.order.shipped":
                simulator.deliver(event.subject, event.data.tracking_number)  # type: ignore[attr-defined]
            elif event.type == "oms.stock.low":
                simulator.reorder(event.subject, event.data.suggested_reorder_qty)  # type: ignore[attr-defined]
    finally:
        await consumer.stop()


def counters_table(counters: Counter[str], simulated: Counter[str], dashboard_url: str) -> Table:
    table = Table(title=f"oms demo — dashboard: {dashboard_url}  (Ctrl-C stops)", show_lines=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("orders placed", simulated["orders"]),
        ("  webshop / marketplace / pos / phone", None),
        ("confirmed", counters["oms.order.confirmed"]),
        ("backordered", counters["oms.order.backordered"]),
        ("shipped", counters["oms.order.shipped"]),
        ("delivered", counters["oms.order.delivered"]),
        ("cancelled", counters["oms.order.cancelled"]),
        ("refunds", counters["oms.refund.issued"]),
        ("notifications sent", counters["oms.notification.sent"]),
        ("low-stock alerts", counters["oms.stock.low"]),
        ("dead letters", counters["oms.deadletter.recorded"]),
    ]
    for label, value in rows:
        if value is None:
            split = " / ".join(str(simulated[f"orders:{c}"]) for c in ("webshop", "marketplace", "pos", "phone"))
            table.add_row(label, split)
        else:
            table.add_row(label, str(value))
    return table


async def run_demo(settings: Settings, bootstrap: str, rate: float, seconds: float | None, console: Console) -> None:
    config = pipeline_config(settings, bootstrap)
    await ensure_pipeline_topics(config)
    archive = archive_engine(settings)
    restarted = archived_count(archive) > 0
    if restarted:
        restored = await restore_log(archive, bootstrap, settings.topic_prefix)
        console.print(f"restored {restored} events from the history archive into the embedded broker")
    env = {
        "OMS_KAFKA_BOOTSTRAP": bootstrap,
        "OMS_DATA_DIR": str(settings.data_dir),
        "OMS_TOPIC_PREFIX": settings.topic_prefix,
        "OMS_PARTITIONS": str(settings.partitions),
        "OMS_PAYMENT_TIMEOUT_S": str(settings.payment_timeout_s),
    }
    api_key = settings.api_keys[0].get_secret_value() if settings.api_keys else secrets.token_urlsafe(18)
    env["OMS_API_KEYS"] = ",".join([api_key, *(k.get_secret_value() for k in settings.api_keys[1:])])
    supervisor = Supervisor(env, Path(settings.data_dir) / "logs")
    supervisor.start("worker", "worker")
    supervisor.start("projector", "project", "--bootstrap", bootstrap)
    supervisor.start("api", "api", "--bootstrap", bootstrap, "--port", str(settings.api_port))
    base_url = f"http://{settings.api_host}:{settings.api_port}"
    dashboard_url = f"{base_url}/dashboard"
    console.print(f"[bold]oms demo[/] broker {bootstrap}, data in {settings.data_dir}, logs in {supervisor.log_dir}")
    console.print(f"dashboard {dashboard_url}  API {base_url}/docs")
    console.print(f"ops key (dashboard log-in, Authorization: Bearer …): {api_key}")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=5)
    await producer.start()
    simulator = Simulator(TopicPublisher(producer, settings), rate_per_s=rate, opening_stock=not restarted)
    counters: Counter[str] = Counter()
    tasks = [
        asyncio.create_task(simulator.run(stop)),
        asyncio.create_task(watch(bootstrap, settings, counters, simulator)),
    ]
    try:
        with Live(counters_table(counters, simulator.counters, dashboard_url), console=console) as live:
            elapsed = 0.0
            while not stop.is_set() and (seconds is None or elapsed < seconds):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=0.5)
                elapsed += 0.5
                live.update(counters_table(counters, simulator.counters, dashboard_url))
                dead = [c.name for c in supervisor.children if not c.alive]
                if dead:
                    console.print(f"[red]stopped unexpectedly: {', '.join(dead)} (see {supervisor.log_dir})")
                    break
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.stop()
        archived_topics = [settings.topic(t) for t in (*topics.PUBLIC_TOPICS, topics.ORDER_REPLIES)]
        if all(child.alive for child in supervisor.children):
            console.print("waiting for the pipeline to settle and the archive to hold every event…")
            if not await wait_until_archived(archive, bootstrap, archived_topics, seconds=45):
                console.print("[red]the archive did not catch up in 45 s; a restart may miss the newest events")
        supervisor.stop_all()
        archive.dispose()
        console.print("demo stopped; nothing left running")
