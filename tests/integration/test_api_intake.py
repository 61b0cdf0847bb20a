"""The HTTP intake on the real embedded broker: a signed Shopify order reaches `oms.orders`, a forged one never does,
and an order the shop was paid for after placing it is confirmed by the pipeline, never cancelled for non-payment."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from adapters.bootstrap import ensure_pipeline_topics, pipeline_config
from adapters.http.api import create_app
from adapters.http.channels.signatures import sign
from adapters.kafka.admin import ensure_topics
from adapters.kafka.publisher import KafkaPublisher
from adapters.settings import Settings
from events import Event, EventData, OrderPlaced, decode, topics
from tests import builders as b
from tests.integration.harness import Worker, of_type, produce, read_topic, wait_for

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).parents[1] / "unit" / "samples" / "shopify_order.json"
URL = "/api/v1/channels/shopify/orders"


async def consumed(bootstrap: str, topic: str, *, want: int, seconds: float) -> list[Event[EventData]]:
    """What `topic` holds from its start: stops at `want` messages or after `seconds`."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        events: list[Event[EventData]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while len(events) < want and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            events.extend(decode(record.value) for records in batch.values() for record in records)
        return events
    finally:
        await consumer.stop()


@pytest.fixture
async def settings(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("OMS_CHANNEL_SECRET_SHOPIFY", "shop-secret")
    settings = Settings(topic_prefix=topic_prefix, data_dir=tmp_path, kafka_bootstrap=kafka_bootstrap, partitions=2)
    await ensure_topics(kafka_bootstrap, [settings.topic(t) for t in topics.PUBLIC_TOPICS], partitions=2)
    return settings


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    assert settings.kafka_bootstrap is not None
    publisher = KafkaPublisher(settings.kafka_bootstrap, settings.topic)
    await publisher.start()
    try:
        app = create_app(settings, publisher)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://oms") as http:
            yield http
    finally:
        await publisher.stop()


async def test_signed_shopify_order_is_on_the_orders_topic(client: httpx.AsyncClient, settings: Settings) -> None:
    body = SAMPLE.read_bytes()
    headers = {"X-Shopify-Hmac-Sha256": sign(body, "shop-secret"), "Content-Type": "application/json"}
    first = await client.post(URL, content=body, headers=headers)
    again = await client.post(URL, content=body, headers=headers)
    assert first.status_code == again.status_code == 202
    order_id = first.json()["order_id"]
    assert again.json() == {"order_id": order_id, "duplicate": True}

    orders_topic = settings.topic(topics.ORDERS)
    # the placement, and its payment again (a repeat to the ledger): the sample order is paid
    event, payment = await consumed(settings.kafka_bootstrap or "", orders_topic, want=3, seconds=3)
    assert (payment.type, payment.subject) == ("oms.order.paid", order_id)
    assert isinstance(event.data, OrderPlaced)
    assert (event.type, event.subject, event.data.order_id) == ("oms.order.placed", order_id, order_id)
    assert {line.sku: line.qty for line in event.data.lines} == {"TEE-BLK-M": 2, "TOTE-NAT": 1}
    assert str(event.data.total()) == "89.70"
    assert (event.data.payment_status, event.data.customer.email) == ("paid", "mara.schulz@example.com")
    assert (readyz := await client.get("/readyz")).status_code == 200, readyz.text


async def test_wrong_signature_puts_nothing_on_the_topic(client: httpx.AsyncClient, settings: Settings) -> None:
    body = SAMPLE.read_bytes()
    response = await client.post(URL, content=body, headers={"X-Shopify-Hmac-Sha256": sign(body, "forged")})
    assert response.status_code == 401
    assert await consumed(settings.kafka_bootstrap or "", settings.topic(topics.ORDERS), want=1, seconds=3) == []


# --- a Shopify order paid after it was placed, through the real pipeline ---------------------------

PAYMENT_TIMEOUT_S = 5.0


@pytest.fixture
async def pipeline(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Settings, httpx.AsyncClient, Worker]]:
    """A worker with a short payment timeout, and the API publishing to its topics."""
    monkeypatch.setenv("OMS_CHANNEL_SECRET_SHOPIFY", "shop-secret")
    settings = Settings(topic_prefix=topic_prefix, data_dir=tmp_path, kafka_bootstrap=kafka_bootstrap, partitions=4)
    await ensure_pipeline_topics(pipeline_config(settings, kafka_bootstrap))
    (tmp_path / "worker").mkdir()
    worker = Worker(kafka_bootstrap, topic_prefix, tmp_path / "worker", payment_timeout_s=PAYMENT_TIMEOUT_S).start()
    publisher = KafkaPublisher(kafka_bootstrap, settings.topic)
    await publisher.start()
    try:
        app = create_app(settings, publisher)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://oms") as http:
            yield settings, http, worker
    finally:
        await publisher.stop()
        worker.stop()


async def shopify_webhook(http: httpx.AsyncClient, topic: str, payload: dict[str, Any]) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = {"X-Shopify-Hmac-Sha256": sign(body, "shop-secret"), "X-Shopify-Topic": topic}
    response = await http.post(URL, content=body, headers=headers)
    assert response.status_code == 202, response.text
    return response


async def test_a_pending_shopify_order_paid_later_is_confirmed_and_never_cancelled_for_non_payment(
    pipeline: tuple[Settings, httpx.AsyncClient, Worker],
) -> None:
    settings, http, worker = pipeline
    bootstrap, prefix = settings.kafka_bootstrap or "", settings.topic_prefix
    orders_topic = settings.topic(topics.ORDERS)
    await produce(bootstrap, prefix, [b.stock_received("TEE-BLK-M", 5), b.stock_received("TOTE-NAT", 5)])
    created = json.loads(SAMPLE.read_text()) | {"financial_status": "pending"}
    order_id = (await shopify_webhook(http, "orders/create", created)).json()["order_id"]
    await wait_for(
        bootstrap,
        orders_topic,
        lambda log: bool(of_type(log, "oms.order.awaiting_payment", order_id=order_id)),
        worker=worker,
    )

    paid = created | {"financial_status": "paid", "updated_at": "2026-01-31T13:46:02+01:00"}
    assert (await shopify_webhook(http, "orders/paid", paid)).json() == {"order_id": order_id, "duplicate": False}
    assert (await shopify_webhook(http, "orders/updated", paid)).json()["duplicate"] is True
    await wait_for(
        bootstrap, orders_topic, lambda log: bool(of_type(log, "oms.order.confirmed", order_id=order_id)), worker=worker
    )

    await asyncio.sleep(PAYMENT_TIMEOUT_S + 3)  # past the deadline the pending placement set, timer included
    log = await read_topic(bootstrap, orders_topic)
    assert [len(of_type(log, kind, order_id=order_id)) for kind in ("oms.order.placed", "oms.order.paid")] == [1, 1]
    assert of_type(log, "oms.payment.recorded", order_id=order_id)[0].data.balance_due == 0  # type: ignore[attr-defined]
    for never in ("oms.order.payment_expired", "oms.order.cancelled", "oms.refund.issued", "oms.order.request_refused"):
        assert of_type(log, never, order_id=order_id) == [], never
    shipments = await read_topic(bootstrap, settings.topic(topics.SHIPMENTS))
    assert len(of_type(shipments, "oms.shipment.requested", order_id=order_id)) == 1
