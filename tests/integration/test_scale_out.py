"""Two workers share the partitions through the consumer group and together process every order."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from adapters.bootstrap import ensure_pipeline_topics, pipeline_config
from adapters.settings import Settings
from events import topics
from tests import builders as b
from tests.integration.harness import Worker, of_type, produce, wait_for

pytestmark = pytest.mark.integration


async def group_members(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
        [(_error, _name, state, *_rest, members)] = response.groups
        return len(members) if state == "Stable" else 0
    finally:
        await admin.close()


async def test_two_workers_share_the_partitions(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = f"s{uuid.uuid4().hex[:8]}."
    await ensure_pipeline_topics(pipeline_config(Settings(topic_prefix=prefix, partitions=4), kafka_bootstrap))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    workers = [Worker(kafka_bootstrap, prefix, tmp_path / name).start() for name in ("a", "b")]
    try:
        deadline = time.monotonic() + 40
        while await group_members(kafka_bootstrap, f"{prefix}oms-pipeline") < 2:
            assert time.monotonic() < deadline, "the two workers never joined one group"
            await asyncio.sleep(0.5)
        skus = [b.unique_sku(f"S{i}") for i in range(4)]
        orders = [b.order_placed(lines={skus[i % 4]: 1}) for i in range(24)]
        await produce(kafka_bootstrap, prefix, [*(b.stock_received(sku, 10) for sku in skus), *orders])
        ids = {o.data.order_id for o in orders}
        await wait_for(
            kafka_bootstrap,
            f"{prefix}{topics.ORDERS}",
            lambda log: {e.subject for e in of_type(log, "oms.order.shipped")} >= ids,
            seconds=60,
            worker=workers[0],
        )
        assert all(w.process is not None and w.process.poll() is None for w in workers)
    finally:
        for worker in workers:
            worker.stop()
