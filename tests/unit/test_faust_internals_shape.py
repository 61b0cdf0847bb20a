"""`pipeline/runtime/faust_internals.py` patches faust's and aiokafka's internals. An upgrade that changes one
of them must be a conscious step: these tests fail as soon as a patched internal is not the one it was written
for (the pinned versions, the source of what it copies or overrides, the attributes it sets or reads)."""

from __future__ import annotations

import hashlib
import inspect
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import faust.transport.consumer as faust_consumer
import faust.transport.drivers.aiokafka as faust_aiokafka
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faust.types.tuples import Message

from pipeline.runtime import faust_internals

WRITTEN_FOR = {
    # faust-streaming 0.15.3: the loop `_Consumer._drain_messages` is a copy of, and what `_Consumer` overrides
    faust_consumer.Consumer._drain_messages: "44a2500309e83c63",
    faust_consumer.Consumer._new_offset: "1d2c7ea89a7ad4f1",
    faust_consumer.Consumer.ack: "5fcf41cf45153475",
    faust_consumer.Consumer._filter_committable_offsets: "dc5e9baf5d994485",
    faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer: "c2701bfc3e6f6cad",
}


def source_digest(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def test_the_pinned_versions_are_the_installed_ones() -> None:
    assert version("faust-streaming") == "0.15.3"
    assert version("aiokafka") == "0.14.0"


def test_the_faust_code_patched_is_the_code_the_patches_were_written_for() -> None:
    changed = {f.__qualname__ for f, digest in WRITTEN_FOR.items() if source_digest(f) != digest}
    assert not changed, f"re-read faust_internals.py against the new {sorted(changed)}"


async def test_the_attributes_set_before_start_are_the_ones_aiokafka_reads() -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1")
    assert hasattr(consumer, "_fetch_max_wait_ms")
    assert hasattr(consumer, "_partition_assignment_strategy")
    start = inspect.getsource(AIOKafkaConsumer.start)
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in start
    assert "assignors=self._partition_assignment_strategy" in start


def test_the_faust_attributes_read_are_there() -> None:
    message = Message("t", 0, 1, 0.0, 0, [], b"k", b"v", None, generation_id=3)
    assert message.generation_id == 3
    consumer_source = inspect.getsource(faust_consumer.Consumer)
    for name in ("self._acked", "self._acked_index", "self.flow_active", "self._unacked_messages"):
        assert name in consumer_source, name
    assert hasattr(faust_consumer.Consumer, "topic_partitions")
    assert "def _ensure_producer" in inspect.getsource(faust_aiokafka.Producer)
    assert hasattr(AIOKafkaProducer, "partitions_for") and hasattr(AIOKafkaProducer, "send_batch")
    assert faust_internals._Consumer._new_offset is not faust_consumer.Consumer._new_offset


def test_no_other_product_module_reaches_into_faust_or_aiokafka_internals() -> None:
    """The one room for them is `pipeline/runtime/faust_internals.py` (and, for the tools outside the pipeline that
    read partitions and ends, `adapters/kafka/offsets.py`, which corrects the embedded broker's answers)."""
    root = Path(__file__).resolve().parents[2]
    internal = re.compile(r"faust\.transport|faust\.types\.tuples|_ensure_producer|\._acked|_partitioner\(|\._client\b")
    allowed = {root / "pipeline" / "runtime" / "faust_internals.py", root / "adapters" / "kafka" / "offsets.py"}
    offenders = [
        str(path.relative_to(root))
        for package in ("events", "pipeline", "projections", "adapters")
        for path in (root / package).rglob("*.py")
        if path not in allowed and internal.search(path.read_text())
    ]
    assert not offenders
