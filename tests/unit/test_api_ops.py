"""Ops actions, webhooks and reads: keys required, each action publishes its event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.http.api import create_app
from adapters.http.api.memory import InMemoryReadModel
from adapters.http.channels.signatures import sign
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings

KEY = "ops-key-1"
OPS = {"Authorization": f"Bearer {KEY}"}
LINES = {"lines": [{"sku": "TEE-BLK-M", "qty": 1}]}

ACTIONS: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/api/v1/orders/SHOP-1/cancel", {"reason": "customer asked"}, "oms.order.cancel_requested"),
    ("POST", "/api/v1/orders/SHOP-1/returns", LINES | {"reason": "too small"}, "oms.return.requested"),
    ("POST", "/api/v1/orders/SHOP-1/returns/received", LINES | {"resellable": True}, "oms.return.received"),
    ("POST", "/api/v1/inventory/TEE-BLK-M/receipts", {"qty": 5}, "oms.stock.received"),
    (
        "POST",
        "/api/v1/inventory/TEE-BLK-M/incoming",
        {"qty": 5, "eta": "2026-02-14T09:00:00Z", "purchase_order": "PO-1"},
        "oms.stock.incoming_scheduled",
    ),
    ("POST", "/api/v1/inventory/TEE-BLK-M/adjustments", {"delta": -2, "reason": "damaged"}, "oms.stock.adjusted"),
    (
        "PUT",
        "/api/v1/inventory/TEE-BLK-M/reorder-policy",
        {"reorder_point": 3, "reorder_qty": 20},
        "oms.stock.reorder_policy_set",
    ),
    ("POST", "/api/v1/orders/SHOP-1/payments", {"amount": "39.80", "payment_id": "pi_1"}, "oms.order.paid"),
    (
        "POST",
        "/api/v1/shipments/delivered",
        {"order_id": "SHOP-1", "tracking_number": "SIM1", "delivered_at": "2026-02-02T10:00:00Z"},
        "oms.shipment.delivered",
    ),
]
READS = [
    "/api/v1/orders",
    "/api/v1/orders/SHOP-1",
    "/api/v1/inventory",
    "/api/v1/inventory/TEE-BLK-M",
    "/api/v1/customers",
    "/api/v1/analytics",
]
PLACED = datetime(2026, 1, 31, 12, tzinfo=UTC)


def read_model() -> InMemoryReadModel:
    order = {
        "order_id": "SHOP-1",
        "status": "confirmed",
        "channel": "shopify",
        "customer_email": "mara@example.com",
        "total_amount": "89.70",
        "currency": "EUR",
        "placed_at": PLACED,
        "lines": [{"sku": "TEE-BLK-M", "qty": 2, "unit_price": "24.90"}],
        "timeline": [{"event_id": "e1", "type": "oms.order.placed", "time": PLACED, "summary": "placed"}],
    }
    other = order | {"order_id": "WOO-2", "channel": "woocommerce", "status": "cancelled"}
    stock = {"sku": "TEE-BLK-M", "on_hand": 10, "reserved": 2, "available": 8, "is_low": False}
    return InMemoryReadModel(
        orders={"SHOP-1": order, "WOO-2": other},
        inventory={"TEE-BLK-M": stock},
        customers={
            "mara@example.com": {
                "customer_key": "mara@example.com",
                "email": "mara@example.com",
                "orders_count": 2,
                "channels": ["shopify"],
            }
        },
        analytics_row={"orders": 2, "units": 4, "revenue": [{"currency": "EUR", "amount": "179.40"}]},
    )


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


def make_client(tmp_path: Path, publisher: RecordingPublisher, keys: str) -> TestClient:
    settings = Settings(data_dir=tmp_path, api_keys=keys)
    return TestClient(create_app(settings, publisher, read_model=read_model()))


@pytest.fixture
def client(tmp_path: Path, publisher: RecordingPublisher) -> Iterator[TestClient]:
    with make_client(tmp_path, publisher, f"other-key,{KEY}") as test_client:
        yield test_client


@pytest.mark.parametrize(("method", "url", "body", "event_type"), ACTIONS, ids=[a[3] for a in ACTIONS])
def test_action_without_key_is_refused_with_key_publishes(
    client: TestClient, publisher: RecordingPublisher, method: str, url: str, body: dict[str, Any], event_type: str
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
        refused = client.request(method, url, json=body, headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
    assert publisher.published == []
    response = client.request(method, url, json=body, headers=OPS)
    assert response.status_code == 202, response.text
    assert [event.type for event in publisher.published] == [event_type]
    assert response.json()["event_id"] == str(publisher.published[0].id)


@pytest.mark.parametrize("url", READS)
def test_reads_refuse_without_key(client: TestClient, url: str) -> None:
    assert client.get(url).status_code == 401
    assert client.get(url, headers=OPS).status_code == 200


def test_no_keys_configured_refuses_everything(tmp_path: Path, publisher: RecordingPublisher) -> None:
    with make_client(tmp_path, publisher, "") as client:
        assert (
            client.post(
                "/api/v1/orders/SHOP-1/cancel", json={"reason": "x"}, headers={"Authorization": "Bearer "}
            ).status_code
            == 401
        )
        assert client.get("/api/v1/orders", headers=OPS).status_code == 401
    assert publisher.published == []


def test_signed_payment_webhook_and_retries_repeat_the_event_id(
    client: TestClient, publisher: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_CHANNEL_SECRET_PAYMENTS", "pay-secret")
    body = json.dumps({"amount": "39.80", "method": "card", "payment_id": "pi_9"}).encode()
    url = "/api/v1/orders/SHOP-1/payments"
    wrong = client.post(url, content=body, headers={"X-OMS-Signature": sign(body, "nope")})
    assert wrong.status_code == 401
    for _ in range(2):
        ok = client.post(
            url, content=body, headers={"X-OMS-Signature": sign(body, "pay-secret"), "Content-Type": "application/json"}
        )
        assert ok.status_code == 202
    first, second = publisher.published
    assert first.id == second.id
    assert str(first.data.amount) == "39.80"


def test_a_payment_report_names_its_payment_and_each_new_total_is_a_new_event(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    url = "/api/v1/orders/SHOP-1/payments"
    reports = [
        {"amount": "39.80", "payment_id": "pi_9", "kind": "authorized", "currency": "EUR"},
        {"amount": "39.8", "payment_id": "pi_9", "kind": "authorized", "currency": "EUR"},
        {"amount": "39.80", "payment_id": "pi_9", "kind": "captured", "currency": "EUR"},
        {"amount": "49.80", "payment_id": "pi_9", "kind": "captured", "currency": "EUR"},
    ]
    for report in reports:
        assert client.post(url, json=report, headers=OPS).status_code == 202
    authorized, resent, captured, more = publisher.published
    assert (authorized.data.payment_id, authorized.data.kind, authorized.data.currency) == ("pi_9", "authorized", "EUR")
    assert resent.id == authorized.id, "the same total again is the same report"
    assert len({authorized.id, captured.id, more.id}) == 3, "a capture, and a higher total, are new reports"
    assert (captured.data.kind, more.data.amount) == ("captured", Decimal("49.80"))


def test_idempotency_key_repeats_the_event_id(client: TestClient, publisher: RecordingPublisher) -> None:
    headers = OPS | {"Idempotency-Key": "count-2026-01-31"}
    for _ in range(2):
        client.post("/api/v1/inventory/TEE-BLK-M/adjustments", json={"delta": 3, "reason": "found"}, headers=headers)
    assert publisher.published[0].id == publisher.published[1].id


def test_invalid_action_body_is_422_naming_fields(client: TestClient, publisher: RecordingPublisher) -> None:
    response = client.post("/api/v1/inventory/TEE-BLK-M/receipts", json={"qty": 0}, headers=OPS)
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body.qty"]
    bad_sku = client.post("/api/v1/inventory/bad%20sku/receipts", json={"qty": 1}, headers=OPS)
    assert bad_sku.status_code == 422
    assert publisher.published == []


def test_order_list_filters_and_pages(client: TestClient) -> None:
    page = client.get("/api/v1/orders", params={"channel": "shopify"}, headers=OPS).json()
    assert [item["order_id"] for item in page["items"]] == ["SHOP-1"]
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    assert client.get("/api/v1/orders", params={"limit": 1, "offset": 1}, headers=OPS).json()["total"] == 2
    assert (
        client.get("/api/v1/orders", params={"placed_from": "2026-02-01T00:00:00Z"}, headers=OPS).json()["items"] == []
    )


def test_order_detail_with_timeline_and_problem_for_unknown(client: TestClient) -> None:
    detail = client.get("/api/v1/orders/SHOP-1", headers=OPS).json()
    assert [(line["sku"], line["qty"], line["unit_price"]) for line in detail["lines"]] == [("TEE-BLK-M", 2, "24.90")]
    assert [entry["type"] for entry in detail["timeline"]] == ["oms.order.placed"]
    missing = client.get("/api/v1/orders/NOPE-1", headers=OPS)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["title"] == "Not found"


def test_inventory_customers_analytics(client: TestClient) -> None:
    assert client.get("/api/v1/inventory/TEE-BLK-M", headers=OPS).json()["available"] == 8
    assert client.get("/api/v1/inventory/NOPE", headers=OPS).status_code == 404
    assert client.get("/api/v1/customers", headers=OPS).json()["items"][0]["orders_count"] == 2
    assert client.get("/api/v1/analytics", headers=OPS).json()["revenue"] == [{"currency": "EUR", "amount": "179.40"}]
