"""Issue 20.1: ops are told on `/metrics` too: paused webhook subscriptions and deliveries waiting, read from the
views database at each scrape (0 when webhooks are set up and all is well; nothing when they never were)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from adapters.http.api import create_app
from adapters.http.api.monitor import Monitor
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from adapters.sql.webhook_queue import Consumed, enqueue_records
from adapters.sql.webhooks import WebhookStore


def scrape(tmp_path: Path, store: WebhookStore) -> str:
    monitor = Monitor("127.0.0.1:1", "", "oms-pipeline", store.engine, timeout_s=0.2, min_interval_s=0)
    client = TestClient(create_app(Settings(data_dir=tmp_path), RecordingPublisher(), monitor=monitor))
    return client.get("/metrics").text


def test_paused_subscriptions_and_waiting_deliveries_are_on_metrics(tmp_path: Path) -> None:
    store = WebhookStore(engine_for(f"sqlite:///{tmp_path / 'oms.sqlite3'}"))
    assert "oms_webhook_subscriptions{" not in scrape(tmp_path, store)  # never set up: no series, no tables made
    assert not store.engine.dialect.has_table(store.engine.connect(), "webhook_subscriptions")

    paused = store.subscribe("http://x.test/a", ["*"])
    store.subscribe("http://x.test/b", ["oms.stock.*"])
    store.set_status(paused.subscription_id, "paused")
    value = orjson.dumps({"id": "e-1", "type": "oms.order.paid", "subject": "o-1"})
    with store.engine.begin() as conn:
        enqueue_records(conn, [Consumed("oms.orders", 0, 0, "o-1", value)], datetime.now(UTC))
    text = scrape(tmp_path, store)

    assert 'oms_webhook_subscriptions{status="paused"} 1.0' in text
    assert 'oms_webhook_subscriptions{status="active"} 1.0' in text
    assert 'oms_webhook_deliveries_waiting{status="pending"} 1.0' in text
    assert 'oms_webhook_deliveries_waiting{status="failed"} 0.0' in text
