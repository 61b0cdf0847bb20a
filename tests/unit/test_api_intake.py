"""HTTP intake through the app with a RecordingPublisher: signatures, validation, idempotency."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.http.api import create_app
from adapters.http.channels.signatures import sign
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from events import encode, natural_id

SAMPLES = Path(__file__).parent / "samples"
KEY = "ops-key-1"
OPS = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def client(tmp_path: Path, publisher: RecordingPublisher, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("OMS_CHANNEL_SECRET_SHOPIFY", "shop-secret")
    monkeypatch.setenv("OMS_CHANNEL_SECRET_WOOCOMMERCE", "woo-secret")
    monkeypatch.setenv("OMS_CHANNEL_SECRET_NATIVE", "native-secret")
    settings = Settings(data_dir=tmp_path, api_keys=KEY)
    with TestClient(create_app(settings, publisher)) as test_client:
        yield test_client


def post_signed(client: TestClient, channel: str, body: bytes, secret: str | None, header: str) -> object:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[header] = sign(body, secret)
    return client.post(f"/api/v1/channels/{channel}/orders", content=body, headers=headers)


def shopify_body() -> bytes:
    return (SAMPLES / "shopify_order.json").read_bytes()


def test_signed_shopify_order_is_published_once_with_a_deterministic_event_id(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    response = post_signed(client, "shopify", shopify_body(), "shop-secret", "X-Shopify-Hmac-Sha256")
    assert response.status_code == 202
    order_id = response.json()["order_id"]
    event, payment = publisher.published
    assert (event.type, event.subject, event.data.order_id) == ("oms.order.placed", order_id, order_id)
    assert event.id == natural_id("intake", "shopify", "5624593694771")
    assert event.topic == "oms.orders"
    assert (event.data.payment_status, event.data.payment_id) == ("paid", "shopify:5624593694771")
    # the paid placement's own payment again, which the ledger takes as a repeat: it keeps the money when
    # another delivery of the order (created while still unpaid) placed it first
    assert (payment.type, payment.data.payment_id, payment.data.amount) == (
        "oms.order.paid",
        "shopify:5624593694771",
        Decimal("89.70"),
    )
    assert payment.correlationid == str(event.id)


@pytest.mark.parametrize("secret", [None, "wrong-secret"], ids=["missing", "wrong"])
def test_missing_or_wrong_signature_is_401_and_publishes_nothing(
    client: TestClient, publisher: RecordingPublisher, secret: str | None
) -> None:
    response = post_signed(client, "shopify", shopify_body(), secret, "X-Shopify-Hmac-Sha256")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert publisher.published == []


def test_channel_without_a_configured_secret_accepts_nothing(
    client: TestClient, publisher: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMS_CHANNEL_SECRET_SHOPIFY")
    response = post_signed(client, "shopify", shopify_body(), "", "X-Shopify-Hmac-Sha256")
    assert response.status_code == 401
    assert publisher.published == []


def test_invalid_payload_is_422_naming_each_field(client: TestClient, publisher: RecordingPublisher) -> None:
    body = shopify_body().replace(b'"quantity": 2', b'"quantity": 0').replace(b'"currency": "EUR"', b'"currency": 7')
    response = post_signed(client, "shopify", body, "shop-secret", "X-Shopify-Hmac-Sha256")
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert {error["field"] for error in problem["errors"]} == {"line_items.0.quantity", "currency"}
    assert publisher.published == []


def test_malformed_json_is_422(client: TestClient, publisher: RecordingPublisher) -> None:
    response = post_signed(client, "native", b"{not json", "native-secret", "X-OMS-Signature")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "(body)"
    assert publisher.published == []


def test_duplicate_webhook_gets_the_same_order_id_and_one_publish(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    first = post_signed(client, "shopify", shopify_body(), "shop-secret", "X-Shopify-Hmac-Sha256")
    again = post_signed(client, "shopify", shopify_body(), "shop-secret", "X-Shopify-Hmac-Sha256")
    assert first.json()["order_id"] == again.json()["order_id"]
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert [event.type for event in publisher.published] == ["oms.order.placed", "oms.order.paid"]


def test_failed_publish_is_503_and_a_retry_publishes(client: TestClient, publisher: RecordingPublisher) -> None:
    publisher.fail = True
    failed = post_signed(client, "shopify", shopify_body(), "shop-secret", "X-Shopify-Hmac-Sha256")
    assert failed.status_code == 503
    publisher.fail = False
    retried = post_signed(client, "shopify", shopify_body(), "shop-secret", "X-Shopify-Hmac-Sha256")
    assert retried.status_code == 202
    assert retried.json()["duplicate"] is False
    assert [event.type for event in publisher.published] == ["oms.order.placed", "oms.order.paid"]


def test_woocommerce_and_native_webhooks(client: TestClient, publisher: RecordingPublisher) -> None:
    woo = (SAMPLES / "woocommerce_order.json").read_bytes()
    native = (SAMPLES / "native_order.json").read_bytes()
    assert post_signed(client, "woocommerce", woo, "woo-secret", "X-WC-Webhook-Signature").status_code == 202
    answer = post_signed(client, "native", native, "native-secret", "X-OMS-Signature")
    assert answer.json() == {"order_id": "web-100042", "duplicate": False}
    assert [event.data.channel for event in publisher.published] == ["woocommerce", "web"]


def test_pos_sale_needs_the_ops_key(client: TestClient, publisher: RecordingPublisher) -> None:
    body = (SAMPLES / "pos_sale.json").read_bytes()
    url = "/api/v1/channels/pos/orders"
    assert client.post(url, content=body).status_code == 401
    assert client.post(url, content=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert publisher.published == []
    assert client.post(url, content=body, headers=OPS).status_code == 202
    assert publisher.published[0].data.payment_status == "paid"


def test_a_walk_in_pos_sale_is_placed_anonymous_and_handed_over(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    body = (SAMPLES / "pos_sale.json").read_bytes().replace(b'"walkin.loyal@example.com"', b"null")
    assert client.post("/api/v1/channels/pos/orders", content=body, headers=OPS).status_code == 202
    [placed] = publisher.published
    assert placed.type == "oms.order.placed"
    assert placed.data.customer.email is None
    assert (placed.data.fulfilment, placed.data.shipping_address) == ("handed_over", None)
    assert b"invalid" not in encode(placed)


def test_csv_upload_answers_a_list(client: TestClient, publisher: RecordingPublisher) -> None:
    body = (SAMPLES / "phone_orders.csv").read_bytes()
    response = client.post("/api/v1/channels/csv/orders", content=body, headers=OPS | {"Content-Type": "text/csv"})
    assert response.status_code == 202
    assert [item["order_ref"] for item in response.json()] == ["PH-2001", "EM-2002"]
    assert len(publisher.published) == 2


def test_csv_with_one_invalid_row_names_it_and_publishes_nothing(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    body = (SAMPLES / "phone_orders_bad_row.csv").read_bytes()
    response = client.post("/api/v1/channels/csv/orders", content=body, headers=OPS | {"Content-Type": "text/csv"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "qty",
            "message": "must be a positive integer",
            "row": 3,
            "detail": "row 3: qty must be a positive integer",
        }
    ]
    assert publisher.published == []


def test_csv_needs_key_and_content_type(client: TestClient, publisher: RecordingPublisher) -> None:
    body = (SAMPLES / "phone_orders.csv").read_bytes()
    url = "/api/v1/channels/csv/orders"
    assert client.post(url, content=body, headers={"Content-Type": "text/csv"}).status_code == 401
    assert client.post(url, content=body, headers=OPS | {"Content-Type": "application/json"}).status_code == 415
    assert publisher.published == []


def test_unknown_channel_is_422(client: TestClient) -> None:
    assert client.post("/api/v1/channels/ebay/orders", content=b"{}").status_code == 422


# --- the shops' later webhooks: payments, changes, cancellations, refunds -------------------------


def shopify_webhook(client: TestClient, topic: str | None, payload: dict[str, Any]) -> Any:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Hmac-Sha256": sign(body, "shop-secret")}
    return client.post("/api/v1/channels/shopify/orders", content=body, headers=headers | topic_header(topic))


def topic_header(topic: str | None) -> dict[str, str]:
    return {"X-Shopify-Topic": topic} if topic else {}


def shopify_order(**changes: Any) -> dict[str, Any]:
    """The sample order as created, unpaid (13:45:12 +01:00), with `changes` (a later state of it)."""
    payload: dict[str, Any] = json.loads(shopify_body()) | {"financial_status": "pending"}
    return payload | {"updated_at": payload["created_at"]} | changes


PAID = {"financial_status": "paid", "updated_at": "2026-01-31T13:46:02+01:00"}


def test_a_pending_shopify_order_then_orders_paid_is_one_placement_and_one_payment(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    created = shopify_webhook(client, "orders/create", shopify_order())
    paid = shopify_webhook(client, "orders/paid", shopify_order(**PAID))
    assert created.json()["order_id"] == paid.json()["order_id"]
    assert (created.json()["duplicate"], paid.json()["duplicate"]) == (False, False), "the payment is news"
    placed, payment = publisher.published
    assert (placed.type, placed.data.payment_status) == ("oms.order.placed", "pending")
    assert payment.type == "oms.order.paid"
    assert (payment.data.payment_id, payment.data.kind, payment.data.amount, payment.data.currency) == (
        "shopify:5624593694771",
        "captured",
        Decimal("89.70"),
        "EUR",
    )
    assert payment.subject == placed.subject and payment.correlationid == str(placed.id)
    # the shop's orders/updated for the same payment, a re-delivered orders/paid, a re-delivered
    # orders/create: nothing new
    for topic, payload in [("orders/updated", shopify_order(**PAID)), ("orders/paid", shopify_order(**PAID))]:
        assert shopify_webhook(client, topic, payload).json()["duplicate"] is True
    assert shopify_webhook(client, "orders/create", shopify_order()).json()["duplicate"] is True
    assert len(publisher.published) == 2


def test_orders_paid_before_orders_create_places_the_order_paid_once(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    assert shopify_webhook(client, "orders/paid", shopify_order(**PAID)).json()["duplicate"] is False
    assert shopify_webhook(client, "orders/create", shopify_order()).json()["duplicate"] is True
    placed, payment = publisher.published
    assert (placed.data.payment_status, placed.data.payment_id) == ("paid", payment.data.payment_id)


def test_a_redelivered_update_is_the_same_event_and_a_new_one_another(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    shopify_webhook(client, "orders/create", shopify_order())
    edited = shopify_order(updated_at="2026-01-31T15:00:00+01:00")
    edited["line_items"][0]["current_quantity"] = 1
    first = shopify_webhook(client, "orders/updated", edited)
    again = shopify_webhook(client, "orders/updated", edited)
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    moved = shopify_order(updated_at="2026-01-31T16:00:00+01:00")
    moved["line_items"][0]["current_quantity"] = 3
    assert shopify_webhook(client, "orders/updated", moved).json()["duplicate"] is False
    _, change, change_again = publisher.published
    assert change.type == change_again.type == "oms.order.change_requested"
    assert change.id != change_again.id
    assert {line.sku: line.qty for line in change.data.lines} == {"TEE-BLK-M": 1, "TOTE-NAT": 1}
    assert {line.sku: line.qty for line in change_again.data.lines} == {"TEE-BLK-M": 3, "TOTE-NAT": 1}


def test_a_change_redelivered_after_a_lost_acknowledgement_repeats_its_event_id(
    client: TestClient, publisher: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    shopify_webhook(client, "orders/create", shopify_order())
    edited = shopify_order(updated_at="2026-01-31T15:00:00+01:00")
    edited["line_items"][0]["current_quantity"] = 1
    monkeypatch.setattr("adapters.sql.intake.IntakeStore.remember_facts", lambda *args: None)  # never remembered
    shopify_webhook(client, "orders/updated", edited)
    shopify_webhook(client, "orders/updated", edited)
    first, again = publisher.published[1:]
    assert first.type == again.type == "oms.order.change_requested"
    assert first.id == again.id, "published twice, one event: consumers drop the second by id"


def test_orders_cancelled_and_refunds_create_are_a_cancel_request_and_a_refund_report(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    shopify_webhook(client, "orders/create", shopify_order(**PAID))
    cancelled = shopify_order(
        financial_status="refunded",
        cancelled_at="2026-02-01T09:00:00+01:00",
        cancel_reason="customer",
        updated_at="2026-02-01T09:00:01+01:00",
    )
    shopify_webhook(client, "orders/cancelled", cancelled)
    refund = json.loads((SAMPLES / "shopify_refund.json").read_text())
    for _ in range(2):
        shopify_webhook(client, "refunds/create", refund)
    types = [event.type for event in publisher.published]
    assert types == ["oms.order.placed", "oms.order.paid", "oms.order.cancel_requested", "oms.refund.reported"]
    report = publisher.published[-1].data
    assert (report.refund_id, report.payment_id, report.amount) == (
        "929361464",
        "shopify:5624593694771",
        Decimal("39.90"),
    )


def test_an_unknown_topic_is_422_naming_the_header_and_an_update_needs_its_signature(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    response = shopify_webhook(client, "orders/delete", shopify_order())
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["X-Shopify-Topic"]
    body = json.dumps(shopify_order(**PAID)).encode()
    forged = client.post(
        "/api/v1/channels/shopify/orders",
        content=body,
        headers={"X-Shopify-Topic": "orders/paid", "X-Shopify-Hmac-Sha256": sign(body, "forged")},
    )
    assert forged.status_code == 401
    assert publisher.published == []


def test_woocommerce_order_updated_to_processing_is_the_payment_and_a_dropped_line_a_change(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    def woo(topic: str, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload).encode()
        headers = {"X-WC-Webhook-Signature": sign(body, "woo-secret"), "X-WC-Webhook-Topic": topic}
        return client.post("/api/v1/channels/woocommerce/orders", content=body, headers=headers)

    order = json.loads((SAMPLES / "woocommerce_order.json").read_text())
    woo("order.created", order)
    woo("order.updated", order | {"status": "processing", "date_modified_gmt": "2026-01-31T13:10:00"})
    dropped = order | {"status": "processing", "date_modified_gmt": "2026-01-31T13:20:00"}
    dropped["line_items"] = dropped["line_items"][:1]
    woo("order.updated", dropped)
    placed, paid, change = publisher.published
    assert placed.data.payment_status == "pending"
    assert (paid.type, paid.data.payment_id, paid.data.amount) == (
        "oms.order.paid",
        "woocommerce:727",
        Decimal("51.80"),
    )
    assert change.type == "oms.order.change_requested"
    assert {line.sku: line.qty for line in change.data.lines} == {"WOO-SINGLE-1": 2, "IDEA-BLK": 0}
