"""Fuzzing the topics' raw bytes: hostile records from a foreign client (librdkafka) onto the real input topics while
a worker runs (random bytes, JSON that is no event, truncated, bit-flipped and spliced envelopes, fields dropped
or given hostile values, values past 256 KiB and just under, null values, odd keys, valid events on the wrong topic
or partition), then a batch of valid orders.

Every processor reading a hostile record's topic must do what the contract says (`tests.chaos.hostile.fate`):
dead-letter it, or take it (its id then in the processor's changelog, or a `rejected` dead letter); the valid orders
must all ship and be told; the worker must still run; `oms check` must find nothing (it leaves out what the
processors dead-lettered).

Seeded and reproducible: the test prints `topic fuzz: OMS_FUZZ_SEED=<n>` and its figures; replay with

    OMS_FUZZ_SEED=<n> .venv/bin/pytest -q -s tests/integration/test_topic_fuzz.py
"""

from __future__ import annotations

import os
import random
import secrets
from collections import Counter
from pathlib import Path

import pytest

from adapters.audit.log import read_log
from adapters.bootstrap import ensure_pipeline_topics, pipeline_config
from adapters.settings import Settings
from events import DeadLetterRecorded, decode, encode, topics
from pipeline.runtime.worker_stages import INVENTORY_OUTPUTS, ORDER_OUTPUTS
from pipeline.stages import notify, shipping
from pipeline.stages.state import applied_ids_of
from tests import builders as b
from tests.chaos.hostile import Hostile, draw_hostile, event_id_of, fate
from tests.chaos.producer import ForeignProducer, Where
from tests.chaos.settle import Settler, wait_until_joined
from tests.chaos.verdict import run_oms_check
from tests.chaos.workload import PROCESSORS_READING
from tests.integration.harness import Logged, Worker, of_type, wait_for

pytestmark = pytest.mark.integration

SEED = int(os.environ.get("OMS_FUZZ_SEED") or secrets.randbits(32))
HOSTILE_RECORDS = 400
VALID_ORDERS = 20
PARTITIONS = 4  # as tests.integration.harness.Worker creates them
IGNORED = {
    "inventory": INVENTORY_OUTPUTS,
    "orders": ORDER_OUTPUTS,
    "shipping": shipping.IGNORED,
    "notify": notify.IGNORED,
}
CHANGELOG_OF = {
    "inventory": "sku_to_stock",
    "orders": "order_to_state",
    "shipping": "order_to_shipments",
    "notify": "order_to_notifications",
}


async def test_hostile_records_are_dead_lettered_or_taken_and_the_worker_goes_on(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    print(f"\ntopic fuzz: OMS_FUZZ_SEED={SEED}")
    replay = f"(replay: OMS_FUZZ_SEED={SEED})"
    records = draw_hostile(random.Random(SEED), HOSTILE_RECORDS, PARTITIONS)
    settings = Settings(topic_prefix=topic_prefix, partitions=PARTITIONS, data_dir=tmp_path)
    await ensure_pipeline_topics(pipeline_config(settings, kafka_bootstrap))
    (tmp_path / "worker").mkdir()
    worker = Worker(kafka_bootstrap, topic_prefix, tmp_path / "worker").start()
    try:
        await wait_until_joined(kafka_bootstrap, f"{topic_prefix}oms-pipeline", 1, 60)
        landed = produce_hostile(kafka_bootstrap, topic_prefix, records)
        order_ids = await place_valid_orders(kafka_bootstrap, topic_prefix, worker)
        await Settler(kafka_bootstrap, topic_prefix, tmp_path, tmp_path, projections=()).wait(quiet_s=2, timeout_s=120)
        assert worker.process is not None and worker.process.poll() is None, f"worker died {replay}"

        dead, applied = await dead_letters_and_applied_ids(kafka_bootstrap, topic_prefix)
        seen = Counter[str]()
        wrong = []
        for index, record in enumerate(records):
            for processor in sorted(PROCESSORS_READING[record.topic]):
                expected, got = judged(record, landed[str(index)], processor, dead, applied)
                seen[f"{expected}:{got}"] += 1
                if not is_acceptable(expected, got):
                    wrong.append(f"{processor} {expected} -> {got}: {described(record, landed[str(index)])}")
        print(f"  {len(records)} hostile records {dict(Counter(r.category for r in records))}")
        print(f"  per reading processor, expected -> observed: {dict(seen)}; {len(order_ids)} valid orders shipped")
        assert wrong == [], f"{len(wrong)} records not handled as the contract says {replay}:\n" + "\n".join(wrong)
        assert "Traceback" not in worker.log_text(), f"{worker.log_text()[-3000:]} {replay}"

        check = run_oms_check(kafka_bootstrap, topic_prefix, tmp_path)
        print(f"  oms check: {check.describe()}")
        assert (check.exit_code, check.report.get("violations")) == (0, []), f"{check.describe()} {replay}"
    finally:
        worker.stop()


def produce_hostile(bootstrap: str, prefix: str, records: list[Hostile]) -> dict[str, Where]:
    producer = ForeignProducer(bootstrap, client_id="oms-topic-fuzz")
    for index, record in enumerate(records):
        producer.send(f"{prefix}{record.topic}", record.key, record.value, tag=str(index), partition=record.partition)
    producer.flush()
    return producer.landed


async def place_valid_orders(bootstrap: str, prefix: str, worker: Worker) -> set[str]:
    """After the hostile records: paid orders on stocked skus, each must ship and its customer be told."""
    producer = ForeignProducer(bootstrap, client_id="oms-topic-fuzz-valid")
    skus = [f"OK-{index}" for index in range(3)]
    orders = [b.order_placed(lines={skus[index % 3]: 1}) for index in range(VALID_ORDERS)]
    for event in [*(b.stock_received(sku, 100) for sku in skus), *orders]:
        producer.send(f"{prefix}{event.topic}", event.subject.encode(), encode(event))
    producer.flush()
    ids = {order.data.order_id for order in orders}

    def all_shipped_and_told(log: list[Logged]) -> bool:
        return {event.subject for event in of_type(log, "oms.notification.sent", kind="shipped")} >= ids

    await wait_for(bootstrap, f"{prefix}{topics.NOTIFICATIONS}", all_shipped_and_told, seconds=90, worker=worker)
    return ids


async def dead_letters_and_applied_ids(
    bootstrap: str, prefix: str
) -> tuple[dict[Where, dict[str, str]], dict[str, set[str]]]:
    """Dead letters by the record they are about (processor -> kind), and every id each processor's changelog
    says it applied (or refused: a refused event's id is applied too)."""
    changelogs = {f"{prefix}oms-pipeline-{table}-changelog": processor for processor, table in CHANGELOG_OF.items()}
    raw = await read_log(bootstrap, [f"{prefix}{topics.DEADLETTER}", *changelogs])
    dead: dict[Where, dict[str, str]] = {}
    applied: dict[str, set[str]] = {processor: set() for processor in CHANGELOG_OF}
    for record in raw.records:
        if record.topic in changelogs:
            applied[changelogs[record.topic]].update(applied_ids_of(record.value))
            continue
        letter = decode(record.value).data
        assert isinstance(letter, DeadLetterRecorded)
        source = (letter.source_topic, letter.source_partition, letter.source_offset)
        dead.setdefault(source, {})[letter.processor] = letter.kind
    return dead, applied


def judged(
    record: Hostile, where: Where, processor: str, dead: dict[Where, dict[str, str]], applied: dict[str, set[str]]
) -> tuple[str, str]:
    """(what the contract says `processor` must do with the record, what it did)."""
    expected = fate(record, where[1], PARTITIONS, IGNORED[processor])
    kind = dead.get(where, {}).get(processor)
    if kind is not None:
        return expected, "rejected" if kind == "rejected" else "dead"
    event_id = event_id_of(record.value)
    return expected, "applied" if event_id is not None and event_id in applied[processor] else "nothing"


def is_acceptable(expected: str, got: str) -> bool:
    """Dead means dead-lettered; taken means applied, refused with a dead letter, or skipped as an id applied
    before (which is in the changelog then too); passed over means nothing at all."""
    allowed = {"dead": {"dead"}, "taken": {"applied", "rejected"}, "passed_over": {"nothing"}}
    return got in allowed[expected]


def described(record: Hostile, where: Where) -> str:
    value = record.value if record.value is None else record.value[:160]
    return f"{record.category} on {where[0]}[{where[1]}]@{where[2]} key {record.key!r:.60} value {value!r}"
