"""The scheduled reconcile of `oms project --reconcile-every`: views projected live from the real embedded broker,
reconciled with their rebuild from the archive while the runners go on, and the count on /metrics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from adapters.bench.history import simulated_history
from adapters.bootstrap.projector import build_projector
from adapters.http.api import create_app
from adapters.http.api.monitor import Monitor
from adapters.kafka.admin import ensure_topics, public_topic_names
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from adapters.sql.reconciliations import latest_differences
from projections.projector import INVENTORY, ORDERS
from projections.tables import orders
from tests.integration.harness import produce

pytestmark = pytest.mark.integration
PARTITIONS = 4


async def test_live_views_reconcile_to_no_difference_and_a_planted_one_reaches_metrics(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    await ensure_topics(kafka_bootstrap, public_topic_names(topic_prefix), PARTITIONS)
    settings = Settings(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, data_dir=tmp_path)
    views = engine_for(f"sqlite:///{tmp_path / 'oms.sqlite3'}")
    history = engine_for(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    await produce(kafka_bootstrap, topic_prefix, simulated_history(80, seed=4, run=f"r{uuid.uuid4().hex[:6]}"))
    names = ("orders", "inventory", "archive")
    projector = build_projector(settings, names, views=views, history=history, batch_size=97, reconcile_every_s=0.5)
    assert projector.reconciler is not None
    stop = asyncio.Event()
    running = asyncio.create_task(projector.run(stop))
    try:
        await _until(lambda: set(latest_differences(views)) == {"orders", "inventory"}, 60)
        assert latest_differences(views) == {"orders": 0, "inventory": 0}
        with views.begin() as conn:
            order_id = conn.execute(select(orders.c.order_id).order_by(orders.c.order_id).limit(1)).scalar_one()
            conn.execute(update(orders).where(orders.c.order_id == order_id).values(carrier="planted"))
        await _until(lambda: latest_differences(views).get("orders") == 1, 30)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    monitor = Monitor("127.0.0.1:1", topic_prefix, "oms-pipeline", views, timeout_s=0.5, min_interval_s=0)
    client = TestClient(create_app(Settings(data_dir=tmp_path), RecordingPublisher(), monitor=monitor))
    text = client.get("/metrics").text
    assert 'oms_view_differences{projection="orders"} 1.0' in text
    assert 'oms_view_differences{projection="inventory"} 0.0' in text
    assert [p.name for p in projector.reconciler.projections] == [ORDERS.name, INVENTORY.name]
    views.dispose()
    history.dispose()


async def _until(condition: Callable[[], bool], seconds: float) -> None:
    for _ in range(int(seconds / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not reached in time")
