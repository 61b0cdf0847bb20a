"""The HTTP intake on the real embedded broker: a signed Shopify order reaches `oms.orders`, a forged one never does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from adapters.api import create_app
from adapters.channels.signatures import sign
from adapters.kafka_admin import ensure_topics
from adapters.publisher import KafkaPublisher
from adapters.settings import Settings
from events import Event, EventData, OrderPlaced, decode, topics

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
    [event] = await consumed(settings.kafka_bootstrap or "", orders_topic, want=2, seconds=3)
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
