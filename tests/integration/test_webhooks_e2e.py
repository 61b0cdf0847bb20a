"""Issue 20.1: the webhook deliverer against a subscriber that fails 30 % of requests and times out on 5 %, on the
real embedded broker and SQLite, with `oms deliver` SIGKILLed while deliveries wait for their retry."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, make_url, select, text

from adapters.kafka.admin import ensure_topics
from adapters.kafka.webhook_deliverer import WEBHOOK_TOPICS
from adapters.sql.webhook_tables import DELIVERED, PENDING, webhook_attempts, webhook_deliveries
from adapters.sql.webhooks import WebhookStore
from events import Event, EventData
from pipeline.rules.webhook_delivery import new_secret
from tests import builders as b
from tests.integration.harness import produce
from tests.integration.test_projections_contract import _postgres_reachable
from tests.integration.webhook_receiver import FlakyReceiver

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ORDERS = 40


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def views_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str) -> Iterator[str]:
    """The views database of the deliverer: a SQLite file, or a PostgreSQL database made for the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'oms.sqlite3'}"
        return
    if not _postgres_reachable(postgres_url):
        pytest.skip("PostgreSQL is not reachable")
    name = f"t_webhooks_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def start_deliverer(bootstrap: str, prefix: str, data_dir: Path, views_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OMS_DATABASE_URL": views_url,
        "OMS_KAFKA_BOOTSTRAP": bootstrap,
        "OMS_TOPIC_PREFIX": prefix,
        "OMS_DATA_DIR": str(data_dir),
        "OMS_PARTITIONS": "4",
        "OMS_WEBHOOK_TIMEOUT_S": "0.3",
        "OMS_WEBHOOK_RETRY_BASE_S": "0.05",
        "OMS_LOG_LEVEL": "WARNING",
    }
    log = open(data_dir / "deliver.log", "ab")  # noqa: SIM115
    command = [sys.executable, "-m", "adapters.cli.main", "deliver"]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def orders_events(count: int) -> list[Event[EventData]]:
    """Per order: placed, paid, a cancel request (all subscribed); and a stock event nobody subscribed to."""
    events: list[Event[EventData]] = []
    for n in range(count):
        order_id = f"wh-{n:03d}"
        events += [b.order_placed(order_id, {"SKU-WH": 1}), b.paid(order_id, "10.00"), b.cancel(order_id)]
        events.append(b.stock_received("SKU-WH", 1))
    return events


def count(engine: Engine, *where: object) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(webhook_deliveries).where(*where)  # type: ignore[arg-type]
        return int(conn.execute(query).scalar_one())


async def until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_every_subscribed_event_is_delivered_once_in_order_through_failures_and_a_kill(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path, views_url: str
) -> None:
    await ensure_topics(kafka_bootstrap, [f"{topic_prefix}{t}" for t in WEBHOOK_TOPICS], partitions=4)
    receiver = FlakyReceiver(new_secret()).start()
    store = WebhookStore.from_url(views_url)
    subscription = store.subscribe(receiver.url, ["oms.order.*"], receiver.secret)
    events = orders_events(ORDERS)
    wanted = [e for e in events if e.type.startswith("oms.order.")]
    engine, mine = store.engine, webhook_deliveries.c.subscription_id == subscription.subscription_id
    deliverer = start_deliverer(kafka_bootstrap, topic_prefix, tmp_path, views_url)
    try:
        await produce(kafka_bootstrap, topic_prefix, events[: len(events) // 2])
        # the kill comes while deliveries wait for a retry: pending, with failed attempts behind them
        waiting = (webhook_deliveries.c.status == PENDING) & (webhook_deliveries.c.attempts > 0)
        await until(lambda: count(engine, mine, waiting) >= 3 and len(receiver.taken) >= 10, 30, "retries pending")
        deliverer.send_signal(signal.SIGKILL)
        deliverer.wait()
        killed_with = (count(engine, mine, waiting), count(engine, mine, webhook_deliveries.c.status == DELIVERED))
        await produce(kafka_bootstrap, topic_prefix, events[len(events) // 2 :])
        deliverer = start_deliverer(kafka_bootstrap, topic_prefix, tmp_path, views_url)
        done = webhook_deliveries.c.status == DELIVERED
        await until(lambda: count(engine, mine, done) >= len(wanted), 45, f"{len(wanted)} deliveries")
    finally:
        deliverer.send_signal(signal.SIGTERM)
        deliverer.wait(20)
        receiver.stop()

    wanted_ids = {str(e.id) for e in wanted}
    assert receiver.taken_ids() == wanted_ids  # every subscribed event, verified, and nothing else
    assert receiver.outcomes["bad signature"] == 0
    with engine.connect() as conn:
        rows = conn.execute(select(webhook_deliveries.c.event_id, webhook_deliveries.c.status).where(mine)).all()
        attempts = conn.execute(select(func.count()).select_from(webhook_attempts)).scalar_one()
    per_event = Counter(event_id for event_id, status in rows if status == DELIVERED)
    assert set(per_event) == wanted_ids and set(per_event.values()) == {1}  # recorded delivered exactly once
    assert len(rows) == len(wanted)  # and queued once, the kill and Kafka's redelivery notwithstanding
    for order_id, taken in receiver.first_takings_by_subject().items():
        assert taken == [str(e.id) for e in wanted if e.subject == order_id], order_id
    assert receiver.outcomes["failed"] > 0 and receiver.outcomes["timed out"] > 0
    print(  # the figures the report quotes (pytest -s)
        f"\nwebhooks e2e: {len(wanted)} events delivered, {attempts} attempts recorded, "
        f"receiver {dict(receiver.outcomes)}"
        f", killed with {killed_with[0]} deliveries awaiting a retry and {killed_with[1]} delivered"
    )
