"""The projection runner on the real embedded broker: live views, resume, replay, and a SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import Engine, func, select

from adapters.bench.history import simulated_history
from adapters.bootstrap.projector import build_projector
from adapters.kafka.admin import ensure_topics, public_topic_names
from adapters.kafka.offsets import log_end_offsets
from adapters.kafka.projection_runner import ProjectionRunner
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from events import Event, EventData, topics
from projections import archive as history
from projections import inventory_queries, order_detail_queries, queries
from projections.projector import INVENTORY, ORDERS
from projections.replay import replay
from projections.tables import tracking
from tests.chaos.hostile import home_partition
from tests.integration.harness import produce
from tests.integration.refused_records import REFUSED_ORDERS, refused_records
from tests.integration.test_projections_contract import independent_stock_fold, snapshot

pytestmark = pytest.mark.integration
PARTITIONS = 4


def workload(orders: int) -> list[Event[EventData]]:
    return simulated_history(orders, seed=3, run=f"l{uuid.uuid4().hex[:6]}")


async def with_topics(bootstrap: str, prefix: str) -> None:
    await ensure_topics(bootstrap, public_topic_names(prefix), PARTITIONS)


async def project(settings: Settings, bootstrap: str, views: Engine, archive: Engine | None = None) -> None:
    names = ("orders", "inventory", "archive") if archive is not None else ("orders", "inventory")
    with_kafka = settings.model_copy(update={"kafka_bootstrap": bootstrap})
    projector = build_projector(with_kafka, names, views=views, history=archive, batch_size=300)
    await asyncio.wait_for(projector.run(asyncio.Event(), until_caught_up=True), 60)


async def test_live_views_resume_and_equal_their_replay(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    await with_topics(kafka_bootstrap, topic_prefix)
    settings = Settings(topic_prefix=topic_prefix, data_dir=tmp_path, partitions=PARTITIONS)
    views = engine_for(f"sqlite:///{tmp_path / 'views.sqlite3'}")
    archive = engine_for(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    events = workload(150)
    half = len(events) // 2

    await produce(kafka_bootstrap, topic_prefix, events[:half])
    letters = await produce_refused(kafka_bootstrap, topic_prefix, events)  # records the processors dead-letter...
    await project(settings, kafka_bootstrap, views, archive)  # ...which the views take, not knowing it yet
    with views.connect() as conn:
        assert order_detail_queries.get_order(conn, "refused-partition") is not None, "the dead letter is still to come"
    await produce(kafka_bootstrap, topic_prefix, [*letters, *events[half:]])  # their dead letters take them back
    await project(settings, kafka_bootstrap, views, archive)  # a new consumer resumes from the tracked offsets

    placed = {e.subject for e in events if e.type == "oms.order.placed"}
    with views.connect() as conn:
        assert queries.count_orders(conn) == len(placed)
        assert [order_id for order_id in REFUSED_ORDERS if order_detail_queries.get_order(conn, order_id)] == []
        statuses = {o["status"] for o in queries.list_orders(conn, limit=1000)}
        assert {"delivered", "cancelled", "returned"} <= statuses
        for sku in {e.subject for e in events if e.data.topic == topics.INVENTORY}:
            row = inventory_queries.get_sku(conn, sku)
            assert row is not None and (row["on_hand"], row["reserved"]) == independent_stock_fold(events, sku)
    with archive.connect() as conn:
        assert history.count(conn) == len(events) + 2 * len(letters)
        for projection in (ORDERS, INVENTORY):
            fresh = engine_for(f"sqlite:///{tmp_path / f'replay-{projection.name}.sqlite3'}")
            replay(conn, fresh, projection, batch=500)
            assert snapshot(fresh, projection) == snapshot(views, projection), f"{projection.name} differs"

        sku = next(e.subject for e in events if e.type == "oms.stock.committed")
        stock_events = [e for e in events if e.subject == sku and e.data.topic == topics.INVENTORY]
        moment = stock_events[len(stock_events) // 2].time
        at = history.stock_at(conn, sku, moment)
        assert (at["on_hand"], at["reserved"]) == independent_stock_fold([e for e in events if e.time <= moment], sku)


async def produce_refused(bootstrap: str, prefix: str, history: list[Event[EventData]]) -> list[Event[EventData]]:
    """Records the processors dead-letter (`tests.integration.refused_records`), where a producer would put them;
    returns the dead letters the processors would write of them, for the test to send when it wants."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1)
    await producer.start()
    letters = []
    try:
        for refused in refused_records(history):
            key = refused.record_key.encode()
            moved = (home_partition(key, PARTITIONS) + refused.partition_shift) % PARTITIONS
            partition = moved if refused.partition_shift else None
            topic = f"{prefix}{refused.topic}"
            landed = await producer.send_and_wait(topic, key=key, value=refused.value(), partition=partition)
            letters.append(refused.dead_letter(landed.topic, landed.partition, landed.offset))
    finally:
        await producer.stop()
    return letters


def _applied(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(tracking.c.offset + 1), 0))).scalar_one())


def _projector(bootstrap: str, prefix: str, data_dir: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OMS_TOPIC_PREFIX": prefix, "OMS_DATA_DIR": str(data_dir), "OMS_PARTITIONS": "4"}
    env.pop("OMS_DATABASE_URL", None)
    command = [sys.executable, "-m", "adapters.cli.main", "project", "--bootstrap", bootstrap, *extra]
    log = open(data_dir / "projector.log", "ab")  # noqa: SIM115
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


async def test_sigkill_mid_batch_then_restart_equals_a_clean_build(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    await with_topics(kafka_bootstrap, topic_prefix)
    events = workload(200)
    await produce(kafka_bootstrap, topic_prefix, events)
    total = sum((await log_end_offsets(kafka_bootstrap, public_topic_names(topic_prefix))).values())
    crash_dir = tmp_path / "crash"
    crash_dir.mkdir()
    only = ["--only", "orders", "--only", "inventory"]

    child = _projector(
        kafka_bootstrap, topic_prefix, crash_dir, *only, "--batch-size", "40", "--pause-in-transaction", "0.3"
    )
    views = engine_for(f"sqlite:///{crash_dir / 'oms.sqlite3'}")
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            if (crash_dir / "oms.sqlite3").exists() and _applied_or_zero(views) > 0:
                break
        await asyncio.sleep(0.45)  # land inside a transaction that holds its rows, uncommitted
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    applied_at_kill = _applied(views)
    assert 0 < applied_at_kill < total, "the kill must land in the middle of the work"

    restarted = _projector(kafka_bootstrap, topic_prefix, crash_dir, *only, "--until-caught-up")
    assert restarted.wait(90) == 0, (crash_dir / "projector.log").read_text()[-3000:]

    clean = engine_for(f"sqlite:///{tmp_path / 'clean.sqlite3'}")
    for projection in (ORDERS, INVENTORY):
        runner = ProjectionRunner(clean, projection, kafka_bootstrap, topic_prefix, group_id=f"{topic_prefix}clean")
        await asyncio.wait_for(runner.run(asyncio.Event(), until_caught_up=True), 60)
        assert snapshot(views, projection) == snapshot(clean, projection), f"{projection.name} differs"
    with views.connect() as conn:
        assert queries.count_orders(conn) == len({e.subject for e in events if e.type == "oms.order.placed"})


def _applied_or_zero(engine: Engine) -> int:
    try:
        return _applied(engine)
    except Exception:  # the tables may not exist yet
        return 0
