"""HTTP intake through the app with a RecordingPublisher: signatures, validation, idempotency."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.api import create_app
from adapters.channels.signatures import sign
from adapters.publisher import RecordingPublisher
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
    [event] = publisher.published
    assert (event.type, event.subject, event.data.order_id) == ("oms.order.placed", order_id, order_id)
    assert event.id == natural_id("intake", "shopify", "5624593694771")
    assert event.topic == "oms.orders"


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
    assert len(publisher.published) == 1


def test_failed_publish_is_503_and_a_retry_publishes(client: TestClient, publisher: RecordingPublisher) -> None:
    publisher.fail = True
    failed = post_signed(client, "shopify", shopify_body(), "shop-secret", "X-Shopify-Hmac-Sha256")
    assert failed.status_code == 503
    publisher.fail = False
    retried = post_signed(client, "shopify", shopify_body(), "shop-secret", "X-Shopify-Hmac-Sha256")
    assert retried.status_code == 202
    assert retried.json()["duplicate"] is False
    assert len(publisher.published) == 1


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
