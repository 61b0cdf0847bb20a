"""`oms check` on the real embedded broker: a worker and the projector over a mixed workload leave nothing to
report; a duplicate dispatch planted on the topic and a view row edited by hand are exactly what it reports;
`--watch` exports the same as Prometheus metrics."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from adapters.bootstrap import ensure_pipeline_topics, pipeline_config
from adapters.bootstrap.projector import build_projector
from adapters.kafka.broker import free_port
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from events import (
    Event,
    EventData,
    LineQty,
    ReturnReceived,
    ReturnRequested,
    ShipmentDelivered,
    new_event,
    topics,
    utc_now,
)
from tests import builders as b
from tests.integration.harness import Logged, Worker, of_type, produce, wait_for

pytestmark = pytest.mark.integration
PARTITIONS = 4


def oms(prefix: str, data_dir: Path, bootstrap: str, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OMS_KAFKA_BOOTSTRAP": bootstrap,
        "OMS_TOPIC_PREFIX": prefix,
        "OMS_DATA_DIR": str(data_dir),
        "OMS_PARTITIONS": str(PARTITIONS),
    }
    env.pop("OMS_DATABASE_URL", None)
    command = [sys.executable, "-m", "adapters.cli.main", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def check(prefix: str, data_dir: Path, bootstrap: str) -> tuple[int, dict[str, Any]]:
    child = oms(prefix, data_dir, bootstrap, "check", "--json", "--grace", "0")
    out, err = child.communicate(timeout=120)
    assert child.returncode in (0, 1), err.decode()[-3000:]
    return child.returncode, orjson.loads(out)


SETTLED: dict[str, dict[str, int]] = {
    topics.ORDERS: {
        "oms.order.shipped": 2,
        "oms.order.backordered": 2,
        "oms.order.cancelled": 1,
        "oms.refund.issued": 1,
    },
    topics.INVENTORY: {"oms.stock.committed": 3, "oms.stock.returned": 1},
    topics.SHIPMENTS: {"oms.shipment.dispatched": 2},
}
"""What the workload below ends with, per topic."""


def has_settled(expected: dict[str, int]) -> Callable[[list[Logged]], bool]:
    return lambda log: all(len(of_type(log, kind)) >= count for kind, count in expected.items())


def is_every_notification_sent(log: list[Logged]) -> bool:
    return len(of_type(log, "oms.notification.requested")) == len(of_type(log, "oms.notification.sent")) > 0


async def mixed_workload(bootstrap: str, prefix: str, worker: Worker) -> tuple[str, str]:
    """Shipped and returned, backordered with and without an ETA, cancelled while unpaid, paid late. Returns
    the shipped order's id and the sku it shipped from the shelf that had plenty."""
    plenty, scarce, awaited = b.unique_sku("MUG"), b.unique_sku("LAMP"), b.unique_sku("SOFA")
    shipped = b.order_placed(lines={plenty: 2, scarce: 1})
    waiting = b.order_placed(lines={scarce: 1})
    abandoned = b.order_placed(lines={plenty: 1}, paid=False)
    paid_late = b.order_placed(lines={plenty: 1}, paid=False)
    promised = b.order_placed(lines={awaited: 1})
    order_id = shipped.data.order_id
    stock = [b.stock_received(plenty, 10), b.stock_received(scarce, 1), b.incoming(awaited, 3, "PO-7")]
    await produce(bootstrap, prefix, [*stock, shipped])
    orders_log = await wait_for(
        bootstrap,
        f"{prefix}{topics.ORDERS}",
        lambda log: bool(of_type(log, "oms.order.shipped", order_id=order_id)),
        worker=worker,
    )
    await produce(bootstrap, prefix, [waiting, abandoned, paid_late, promised])
    await produce(bootstrap, prefix, [b.cancel(abandoned.data.order_id), b.paid(paid_late.data.order_id, "10.00")])
    tracking = of_type(orders_log, "oms.order.shipped", order_id=order_id)[0].data.tracking_number  # type: ignore[attr-defined]
    lines = (LineQty(sku=plenty, qty=1),)
    after_sales: list[EventData] = [
        ShipmentDelivered(order_id=order_id, tracking_number=tracking, delivered_at=utc_now()),
        ReturnRequested(order_id=order_id, lines=lines, reason="too small"),
        ReturnReceived(order_id=order_id, lines=lines, resellable=True),
    ]
    for data in after_sales:  # one by one: the order processor reads shipments and orders in either order
        await produce(bootstrap, prefix, [new_event(data, source="tests")])
        await asyncio.sleep(1.0)
    for name, expected in SETTLED.items():
        await wait_for(bootstrap, f"{prefix}{name}", has_settled(expected), seconds=60, worker=worker)
    await wait_for(bootstrap, f"{prefix}{topics.NOTIFICATIONS}", is_every_notification_sent, worker=worker)
    return order_id, plenty


async def project(settings: Settings, bootstrap: str) -> None:
    with_kafka = settings.model_copy(update={"kafka_bootstrap": bootstrap})
    projector = build_projector(with_kafka, ("orders", "inventory"), batch_size=50)
    await asyncio.wait_for(projector.run(asyncio.Event(), until_caught_up=True), 60)
    for runner in projector.runners:
        runner.engine.dispose()


async def plant_a_second_dispatch(bootstrap: str, prefix: str, order_id: str) -> Event[EventData]:
    shipments = await wait_for(
        bootstrap,
        f"{prefix}{topics.SHIPMENTS}",
        lambda log: bool(of_type(log, "oms.shipment.dispatched", order_id=order_id)),
    )
    [dispatched] = of_type(shipments, "oms.shipment.dispatched", order_id=order_id)
    twin = dispatched.model_copy(update={"id": uuid.uuid4()})
    await produce(bootstrap, prefix, [twin])
    return twin


def scrape_until(port: int, wanted: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    exported = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
                exported = response.read().decode()
        except OSError:
            exported = ""
        if wanted in exported:
            return exported
        time.sleep(0.5)
    raise AssertionError(f"{wanted!r} never exported; last scrape:\n{exported}")


async def test_check_is_clean_after_a_live_run_and_reports_exactly_what_was_planted(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    settings = Settings(topic_prefix=topic_prefix, partitions=PARTITIONS, data_dir=tmp_path)
    await ensure_pipeline_topics(pipeline_config(settings, kafka_bootstrap))
    (tmp_path / "worker").mkdir()
    worker = Worker(kafka_bootstrap, topic_prefix, tmp_path / "worker").start()
    try:
        order_id, sku = await mixed_workload(kafka_bootstrap, topic_prefix, worker)
        await project(settings, kafka_bootstrap)

        code, report = check(topic_prefix, tmp_path, kafka_bootstrap)
        assert (code, report["violations"]) == (0, []), report
        assert report["records_read"] > 100 and not report["notes"]

        twin = await plant_a_second_dispatch(kafka_bootstrap, topic_prefix, order_id)
        views = engine_for(settings.views_url)
        with views.begin() as conn:
            conn.execute(text("UPDATE inventory SET reserved = reserved + 1 WHERE sku = :sku"), {"sku": sku})
        views.dispose()

        code, report = check(topic_prefix, tmp_path, kafka_bootstrap)
        found = [(v["invariant"], v["subject"]) for v in report["violations"]]
        assert code == 1
        assert found == [
            ("single_effect", f"order {order_id} shipment {order_id}-S1"),
            ("view_matches_log", f"inventory {sku}"),
        ], report["violations"]
        dispatches, row = report["violations"]
        assert str(twin.id) in {evidence["id"] for evidence in dispatches["evidence"]}
        assert set(row["details"]) == {"reserved"}

        port = free_port()
        watch = ("check", "--watch", "--interval", "1", "--metrics-port", str(port))
        watcher = oms(topic_prefix, tmp_path, kafka_bootstrap, *watch)
        try:
            exported = scrape_until(port, 'oms_check_violations{invariant="single_effect"} 1.0')
            assert 'oms_check_violations{invariant="view_matches_log"} 1.0' in exported
            assert 'oms_check_violations{invariant="stock_bounds"} 0.0' in exported
            assert "oms_check_last_run_timestamp_seconds" in exported
        finally:
            watcher.send_signal(signal.SIGTERM)
            assert watcher.wait(30) == 0, watcher.stderr.read().decode()[-3000:] if watcher.stderr else ""
    finally:
        worker.stop()
