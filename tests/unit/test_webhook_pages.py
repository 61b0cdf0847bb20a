"""Issue 20.1: the dashboard's webhooks page: behind the log-in, subscriptions listed, one's delivery log shown,
a delivery redelivered and the subscription paused and resumed from the page (CSRF checked)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from adapters.http.api import create_app
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from adapters.sql.webhook_queue import Consumed, enqueue_records
from adapters.sql.webhooks import Subscription, WebhookStore
from tests.unit.test_dashboard_pages import KEY, csrf_of, log_in


@pytest.fixture
def store(tmp_path: Path) -> Iterator[WebhookStore]:
    engine = engine_for(f"sqlite:///{tmp_path / 'oms.sqlite3'}")
    yield WebhookStore(engine)
    engine.dispose()


@pytest.fixture
def client(tmp_path: Path, store: WebhookStore) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEY), RecordingPublisher(), webhook_store=store)  # type: ignore[arg-type]
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def subscription(store: WebhookStore) -> Subscription:
    made = store.subscribe("https://erp.example.com/hooks", ["oms.order.*"])
    value = orjson.dumps({"id": "e-1", "type": "oms.order.paid", "subject": "o-77"})
    with store.engine.begin() as conn:
        enqueue_records(conn, [Consumed("oms.orders", 0, 0, "o-77", value)], datetime.now(UTC))
    return made


def test_the_pages_need_a_session(client: TestClient, subscription: Subscription) -> None:
    assert client.get("/dashboard/webhooks").status_code == 303
    assert client.get(f"/dashboard/webhooks/{subscription.subscription_id}").status_code == 303


def test_subscriptions_and_a_delivery_log_are_shown_without_the_secret(
    client: TestClient, subscription: Subscription
) -> None:
    log_in(client)
    listing = client.get("/dashboard/webhooks").text
    detail = client.get(f"/dashboard/webhooks/{subscription.subscription_id}").text

    assert "https://erp.example.com/hooks" in listing and "oms.order.*" in listing
    assert "o-77" in detail and "oms.order.paid" in detail and "1 delivery" in detail
    assert subscription.secret not in listing + detail


def test_redeliver_pause_and_resume_from_the_page(
    client: TestClient, store: WebhookStore, subscription: Subscription
) -> None:
    log_in(client)
    path = f"/dashboard/webhooks/{subscription.subscription_id}"
    html = client.get(path).text
    [delivery] = store.deliveries(subscription.subscription_id)[0]
    redeliver = f"{path}/deliveries/{delivery['delivery_id']}/redeliver"

    assert client.post(redeliver, data={"csrf": "forged"}).status_code == 403
    assert client.post(redeliver, data={"csrf": csrf_of(html)}).status_code == 303
    assert store.deliveries(subscription.subscription_id)[1] == 2
    assert client.post(f"{path}/status", data={"csrf": csrf_of(html), "status": "paused"}).status_code == 303
    assert store.subscription(subscription.subscription_id).status == "paused"  # type: ignore[union-attr]
    assert "Resume" in client.get(path).text
    client.post(f"{path}/status", data={"csrf": csrf_of(html), "status": "active"})
    assert store.subscription(subscription.subscription_id).status == "active"  # type: ignore[union-attr]
