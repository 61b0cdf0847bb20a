"""Issue 20.1: `/api/v1/webhooks`: ops key only; create (secret returned once), list, log, redeliver, pause."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from adapters.http.api import create_app
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from adapters.sql.webhook_queue import Consumed, enqueue_records
from adapters.sql.webhooks import WebhookStore
from pipeline.rules.webhook_delivery import new_secret

KEY = "ops-key-1"
OPS = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = engine_for(f"sqlite:///{tmp_path / 'oms.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> TestClient:
    settings = Settings(api_keys=KEY, data_dir=tmp_path)  # type: ignore[arg-type]
    app = create_app(settings, RecordingPublisher(), webhook_store=WebhookStore(engine))
    return TestClient(app)


def queue(engine: Engine, *types: str) -> None:
    records = [
        Consumed("oms.orders", 0, n, "o-1", orjson.dumps({"id": f"e-{n}", "type": t, "subject": "o-1"}))
        for n, t in enumerate(types)
    ]
    with engine.begin() as conn:
        enqueue_records(conn, records, datetime.now(UTC))


def test_every_webhook_endpoint_needs_an_ops_key(client: TestClient) -> None:
    assert client.get("/api/v1/webhooks").status_code == 401
    body = {"url": "https://example.com/hooks", "event_types": ["oms.order.*"]}
    assert client.post("/api/v1/webhooks", json=body).status_code == 401
    assert client.post("/api/v1/webhooks", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_subscription_is_made_its_secret_shown_once_and_its_log_read(client: TestClient, engine: Engine) -> None:
    secret = new_secret()
    made = client.post(
        "/api/v1/webhooks",
        json={"url": "https://example.com/hooks", "event_types": ["oms.order.*"], "secret": secret},
        headers=OPS,
    )
    assert made.status_code == 201, made.text
    assert made.json()["secret"] == secret and made.json()["status"] == "active"
    subscription_id = made.json()["subscription_id"]
    listed = client.get("/api/v1/webhooks", headers=OPS).json()
    assert [s["subscription_id"] for s in listed] == [subscription_id] and "secret" not in listed[0]

    queue(engine, "oms.order.placed", "oms.stock.reserved", "oms.order.paid")
    log = client.get(f"/api/v1/webhooks/{subscription_id}/deliveries", headers=OPS).json()
    assert log["total"] == 2 and [d["event_type"] for d in log["items"]] == ["oms.order.paid", "oms.order.placed"]
    assert log["items"][0]["status"] == "pending" and log["items"][0]["attempts"] == 0
    delivery_id = log["items"][0]["delivery_id"]
    detail = client.get(f"/api/v1/webhooks/{subscription_id}/deliveries/{delivery_id}", headers=OPS).json()
    assert detail["event_id"] == "e-2" and detail["attempt_log"] == []

    again = client.post(f"/api/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver", headers=OPS)
    assert again.status_code == 202 and len(again.json()["deliveries"]) == 1
    since = client.post(f"/api/v1/webhooks/{subscription_id}/redeliver", json={"since": "2000-01-01"}, headers=OPS)
    assert since.status_code == 202 and len(since.json()["deliveries"]) == 2
    assert client.get(f"/api/v1/webhooks/{subscription_id}/deliveries", headers=OPS).json()["total"] == 5


def test_a_secret_is_made_when_none_is_given(client: TestClient) -> None:
    made = client.post("/api/v1/webhooks", json={"url": "http://x.test/h", "event_types": ["*"]}, headers=OPS)

    assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "file:///etc/passwd", "event_types": ["*"]}, "url"),
        ({"url": "http://", "event_types": ["*"]}, "url"),
        ({"url": "https://x.test", "event_types": ["oms.*.paid"]}, "event_types"),
        ({"url": "https://x.test", "event_types": ["*"], "secret": "hunter2"}, "secret"),
    ],
)
def test_a_subscription_that_cannot_work_is_a_422_naming_the_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    refused = client.post("/api/v1/webhooks", json=body, headers=OPS)

    assert refused.status_code == 422
    assert field in refused.text


def test_pause_resume_and_remove(client: TestClient) -> None:
    made = client.post("/api/v1/webhooks", json={"url": "http://x.test/h", "event_types": ["*"]}, headers=OPS).json()
    path = f"/api/v1/webhooks/{made['subscription_id']}"

    assert client.post(f"{path}/pause", headers=OPS).json()["status"] == "paused"
    assert client.post(f"{path}/resume", headers=OPS).json()["status"] == "active"
    assert client.delete(path, headers=OPS).status_code == 204
    assert client.get(path, headers=OPS).status_code == 404
    assert client.get("/api/v1/webhooks", headers=OPS).json() == []
    missing = "/api/v1/webhooks/00000000-0000-0000-0000-000000000000"
    assert client.post(f"{missing}/resume", headers=OPS).status_code == 404
    assert client.get(f"{missing}/deliveries", headers=OPS).status_code == 404
