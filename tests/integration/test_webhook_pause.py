"""Issue 20.1: a subscriber that keeps failing is paused and ops are told (a warning naming the subscription, and
`oms_webhook_subscriptions_paused_total`), while a healthy subscriber of the same events goes on; resumed, the
paused one gets what waited, in order. In-process deliverer, real embedded broker, SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

import pytest

from adapters.kafka.admin import ensure_topics
from adapters.kafka.webhook_deliverer import WEBHOOK_TOPICS, WebhookDeliverer
from adapters.outbound.webhook_sender import WebhookSender
from adapters.sql.webhook_tables import DELIVERED, PAUSED
from adapters.sql.webhooks import WebhookStore
from pipeline.rules.webhook_delivery import Backoff, new_secret
from tests import builders as b
from tests.integration.harness import produce
from tests.integration.webhook_receiver import FlakyReceiver

pytestmark = pytest.mark.integration


async def test_a_failing_subscriber_is_paused_and_told_the_healthy_one_goes_on_and_resume_sends_what_waited(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await ensure_topics(kafka_bootstrap, [f"{topic_prefix}{t}" for t in WEBHOOK_TOPICS], partitions=2)
    healthy = FlakyReceiver(new_secret(), fail_share=0.0, timeout_share=0.0).start()
    broken = FlakyReceiver(new_secret(), fail_share=1.0, timeout_share=0.0).start()
    store = WebhookStore.from_url(f"sqlite:///{tmp_path / 'oms.sqlite3'}")
    good = store.subscribe(healthy.url, ["oms.order.*"], healthy.secret)
    bad = store.subscribe(broken.url, ["oms.order.*"], broken.secret)
    deliverer = WebhookDeliverer(
        store.engine,
        kafka_bootstrap,
        WebhookSender(timeout_s=1.0),
        topic_prefix,
        backoff=Backoff(base_s=0.01, cap_s=0.05),
        pause_after=5,
        partitions=2,
    )
    events = [b.order_placed(f"p-{n}", {"SKU-P": 1}) for n in range(6)]
    stop = asyncio.Event()
    caplog.set_level(logging.WARNING, logger="adapters.kafka.webhook_deliverer")
    running = asyncio.create_task(deliverer.run(stop))
    try:
        await produce(kafka_bootstrap, topic_prefix, events)
        await until(lambda: delivered(store, good.subscription_id) == 6 and is_paused(store, bad.subscription_id))
        attempts_when_paused = broken.outcomes["failed"]
        await asyncio.sleep(0.5)
        assert broken.outcomes["failed"] == attempts_when_paused  # nothing is sent to a paused subscriber
        assert [r.message for r in caplog.records if bad.subscription_id in r.message]
        assert deliverer.metrics.registry.get_sample_value("oms_webhook_subscriptions_paused_total") == 1
        assert delivered(store, bad.subscription_id) == 0

        broken.fail_share = 0.0
        store.set_status(bad.subscription_id, "active")
        await until(lambda: delivered(store, bad.subscription_id) == 6)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(running, 10)
        healthy.stop()
        broken.stop()
    assert sorted(t.subject for t in broken.taken) == [f"p-{n}" for n in range(6)]
    # paused at the fifth failure in a row; the requests already in flight then (one per line at most) still end
    assert 5 <= broken.outcomes["failed"] < 5 + len(events)
    assert healthy.outcomes["taken"] == 6 and healthy.outcomes["failed"] == 0


def delivered(store: WebhookStore, subscription_id: str) -> int:
    return store.deliveries(subscription_id, status=DELIVERED, limit=1)[1]


def is_paused(store: WebhookStore, subscription_id: str) -> bool:
    found = store.subscription(subscription_id)
    return found is not None and found.status == PAUSED


async def until(check: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)
