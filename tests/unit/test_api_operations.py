"""Health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from adapters.http.api import create_app
from adapters.http.channels.signatures import sign
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings


def test_healthz_and_readyz_report_each_check(tmp_path: Path) -> None:
    ready = create_app(Settings(data_dir=tmp_path), RecordingPublisher(), readiness={"broker": lambda: True})
    down = create_app(
        Settings(data_dir=tmp_path), RecordingPublisher(), readiness={"broker": lambda: False, "database": lambda: True}
    )
    assert TestClient(ready).get("/healthz").json() == {"status": "ok"}
    assert TestClient(ready).get("/readyz").status_code == 200
    answer = TestClient(down).get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"] == {"broker": False, "database": True}


def test_default_readiness_without_a_broker_is_not_ready(tmp_path: Path) -> None:
    answer = TestClient(create_app(Settings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:1"), RecordingPublisher()))
    assert answer.get("/readyz").json()["checks"] == {"broker": False, "database": True}


def test_metrics_count_requests_and_published_events_per_app(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OMS_CHANNEL_SECRET_SHOPIFY", "s")
    body = (Path(__file__).parent / "samples" / "shopify_order.json").read_bytes()
    app = create_app(Settings(data_dir=tmp_path), RecordingPublisher())
    other = create_app(Settings(data_dir=tmp_path), RecordingPublisher())
    client = TestClient(app)
    client.post("/api/v1/channels/shopify/orders", content=body, headers={"X-Shopify-Hmac-Sha256": sign(body, "s")})
    app.state.context.metrics.set_consumer_lag("order_projector", "oms.orders", 3, 42)
    app.state.context.metrics.set_deadlettered(3)
    text = client.get("/metrics").text
    assert 'oms_events_published_total{type="oms.order.placed"} 1.0' in text
    assert 'route="/api/v1/channels/{channel}/orders",status="202"' in text
    assert 'oms_consumer_lag{group="order_projector",partition="3",topic="oms.orders"} 42.0' in text
    assert "oms_deadlettered_events 3.0" in text
    assert "oms_events_published_total{" not in TestClient(other).get("/metrics").text


def test_openapi_has_every_route_with_examples(tmp_path: Path) -> None:
    spec = TestClient(create_app(Settings(data_dir=tmp_path), RecordingPublisher())).get("/openapi.json").json()
    intake = spec["paths"]["/api/v1/channels/{channel}/orders"]["post"]
    assert set(intake["requestBody"]["content"]["application/json"]["examples"]) == {
        "shopify",
        "woocommerce",
        "pos",
        "native",
        "shopify_refund",
    }
    assert {"X-Shopify-Topic", "X-WC-Webhook-Topic"} <= {param["name"] for param in intake["parameters"]}
    assert "text/csv" in intake["requestBody"]["content"]
    assert {"401", "422"} <= set(intake["responses"])
    assert spec["components"]["schemas"]["StockReceiptCreate"]["examples"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
