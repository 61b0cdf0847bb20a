"""Hostile records (and one empty log) that the pipeline, the views or the audit did not handle as the contract
says (issue 12, found while building the topic fuzz test and the chaos runs). Each test states what the contract
asks. Those still marked are expected to fail until the owner of the code named in their reason fixes it; the marks
are strict, so a fix turns the test into a failure that asks for its mark to go. Fixed: a dead-lettered placement is
no order in the views, the audit's stock fold leaves out what the inventory processor dead-lettered, and `oms check`
on an empty log is clean.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.audit.log import read_log
from adapters.bootstrap import ensure_pipeline_topics, pipeline_config
from adapters.bootstrap.projector import build_projector
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from events import DeadLetterRecorded, StockAdjusted, decode, encode, new_event, topics
from tests import builders as b
from tests.chaos.hostile import home_partition
from tests.chaos.producer import ForeignProducer, Where
from tests.chaos.settle import Settler, wait_until_joined
from tests.chaos.verdict import run_oms_check
from tests.integration.harness import Worker, read_topic

pytestmark = pytest.mark.integration
PARTITIONS = 4  # as tests.integration.harness.Worker creates them


class Pipeline:
    """Workers on their own topic prefix, and what a test needs around them."""

    def __init__(self, bootstrap: str, prefix: str, root: Path, workers: int) -> None:
        self.bootstrap, self.prefix, self.root = bootstrap, prefix, root
        self.settings = Settings(topic_prefix=prefix, partitions=PARTITIONS, data_dir=root)
        self.workers = [Worker(bootstrap, prefix, self._folder(f"worker-{n}")) for n in range(workers)]

    def _folder(self, name: str) -> Path:
        (self.root / name).mkdir(parents=True, exist_ok=True)
        return self.root / name

    async def start(self) -> None:
        await ensure_pipeline_topics(pipeline_config(self.settings, self.bootstrap))
        for worker in self.workers:
            worker.start()
        await wait_until_joined(self.bootstrap, f"{self.prefix}oms-pipeline", len(self.workers), 90)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        *,
        partition: int | None = None,
        headers: list[tuple[str, str | bytes | None]] | None = None,
    ) -> Where:
        producer = ForeignProducer(self.bootstrap, client_id="oms-hostile-records")
        producer.send(f"{self.prefix}{topic}", key, value, tag="it", partition=partition, headers=headers)
        producer.flush()
        return producer.landed["it"]

    async def handled(self) -> None:
        """Until the workers have committed every input record (and nothing new came for a second)."""
        await Settler(self.bootstrap, self.prefix, self.root, self.root, projections=()).wait(quiet_s=1, timeout_s=90)

    async def dead_letters(self) -> dict[Where, str]:
        raw = await read_log(self.bootstrap, [f"{self.prefix}{topics.DEADLETTER}"])
        letters = [decode(record.value).data for record in raw.records]
        return {
            (letter.source_topic, letter.source_partition, letter.source_offset): letter.kind
            for letter in letters
            if isinstance(letter, DeadLetterRecorded)
        }

    async def project(self, *names: str) -> None:
        with_kafka = self.settings.model_copy(update={"kafka_bootstrap": self.bootstrap})
        projector = build_projector(with_kafka, names, batch_size=100)
        await asyncio.wait_for(projector.run(asyncio.Event(), until_caught_up=True), 60)
        for runner in projector.runners:
            runner.engine.dispose()


@pytest.fixture(scope="module")
async def pipeline(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pipeline]:
    root = tmp_path_factory.mktemp("hostile")
    running = Pipeline(kafka_bootstrap, f"h{root.name[-6:]}.", root, workers=1)
    await running.start()
    try:
        yield running
    finally:
        running.stop()


async def test_a_record_on_the_wrong_partition_is_dead_lettered_by_every_worker(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    two = Pipeline(kafka_bootstrap, f"w{tmp_path.name[-6:]}.", tmp_path, workers=2)
    await two.start()
    try:
        placed = []
        while len({home_partition(o.data.order_id.encode(), PARTITIONS) for o in placed}) < PARTITIONS:
            placed.append(b.order_placed(lines={"SKU-1": 1}))  # until every partition (so both workers) gets some
        sent = []
        for order in placed:
            key = order.data.order_id.encode()
            sent.append(
                two.send(topics.ORDERS, key, encode(order), partition=(home_partition(key, PARTITIONS) + 1) % 4)
            )
        await two.handled()
        dead = await two.dead_letters()
    finally:
        two.stop()
    assert {where[1] for where in sent} == set(range(PARTITIONS)), "every partition (so both workers) gets some"
    assert {where: dead.get(where) for where in sent} == dict.fromkeys(sent, "wrong_partition")


async def test_a_record_that_only_claims_an_output_type_is_dead_lettered(pipeline: Pipeline) -> None:
    claims = [
        pipeline.send(topics.INVENTORY, b"SKU-1", b'{"type": "oms.stock.reserved", "data": "not an event"}'),
        pipeline.send(topics.ORDERS, b"o-1", b'{"type": "oms.order.confirmed"}'),
    ]
    await pipeline.handled()
    dead = await pipeline.dead_letters()
    assert [dead.get(where) for where in claims] == ["not_cloudevent", "not_cloudevent"]


async def test_a_forged_type_header_does_not_hide_a_placement(pipeline: Pipeline) -> None:
    order = b.order_placed(lines={b.unique_sku("HDR"): 1})
    header: list[tuple[str, str | bytes | None]] = [("oms-type", b"oms.order.confirmed")]
    where = pipeline.send(topics.ORDERS, order.data.order_id.encode(), encode(order), headers=header)
    await pipeline.handled()
    orders = await read_topic(pipeline.bootstrap, f"{pipeline.prefix}{topics.ORDERS}")
    decided = [
        item for item in orders if item.event and item.event.subject == order.data.order_id and item.offset != where[2]
    ]
    assert decided or where in await pipeline.dead_letters()


async def test_a_placement_dead_lettered_for_its_key_is_no_order_in_the_views(pipeline: Pipeline) -> None:
    order = b.order_placed(lines={b.unique_sku("KEY"): 1})
    where = pipeline.send(topics.ORDERS, b"not-its-key", encode(order))
    await pipeline.handled()
    assert (await pipeline.dead_letters()).get(where) == "wrong_key"
    await pipeline.project("orders")
    views = engine_for(pipeline.settings.views_url)
    with views.connect() as conn:
        rows = conn.execute(text("SELECT status FROM orders WHERE order_id = :id"), {"id": order.data.order_id}).all()
    views.dispose()
    assert rows == []


async def test_oms_check_does_not_count_stock_the_processor_never_applied(pipeline: Pipeline) -> None:
    sku = b.unique_sku("ADJ")
    adjusted = new_event(StockAdjusted(sku=sku, delta=-4, reason="count"), source="tests")
    where = pipeline.send(topics.INVENTORY, b"not-its-sku", encode(adjusted))
    await pipeline.handled()
    assert (await pipeline.dead_letters()).get(where) == "wrong_key"
    check = run_oms_check(pipeline.bootstrap, pipeline.prefix, pipeline.root)
    assert [v["subject"] for v in check.report["violations"] if v["invariant"] == "stock_bounds"] == []


async def test_oms_check_on_an_empty_log_is_clean(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> None:
    settings = Settings(topic_prefix=topic_prefix, partitions=PARTITIONS, data_dir=tmp_path)
    await ensure_pipeline_topics(pipeline_config(settings, kafka_bootstrap))
    check = await asyncio.to_thread(run_oms_check, kafka_bootstrap, topic_prefix, tmp_path)
    assert (check.exit_code, check.is_clean) == (0, True), check.describe()
