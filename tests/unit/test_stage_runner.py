"""The order and inventory stages keep decoded states, but never one the state no longer holds."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner

from pipeline.ports import StateWrite
from pipeline.runtime import stage_runner
from pipeline.runtime.produce import KeyHomes
from pipeline.runtime.stage_runner import StageRunner
from pipeline.stages.processor import KeyedProcessor
from pipeline.stages.shipping import ShippingState
from pipeline.stages.state import StageState
from pipeline.stages.stored import StateCodec, Stored
from tests.unit.fakes_state import FakeChangelog, FakeLocalStore


async def stage_over(changelog: FakeChangelog) -> StageRunner[ShippingState]:
    def no_processor(load: Any, applied: Any) -> KeyedProcessor[Any]:
        return KeyedProcessor("test", None, None, load, "dead")  # type: ignore[arg-type]

    state = StageState("order_to_shipments", "log", FakeLocalStore(), changelog)
    await state.restore({0})
    homes = KeyHomes(lambda: None)
    return StageRunner(app=None, homes=homes, state=state, processor_factory=no_processor, state_type=ShippingState)  # type: ignore[arg-type]


async def test_a_state_is_decoded_once_while_the_state_holds_the_same_bytes() -> None:
    codec = StateCodec(ShippingState)
    changelog = FakeChangelog()
    changelog.append(0, b"o-1", codec.dumps(Stored(state=ShippingState(booked={"s-1": "T1"}))))
    stage = await stage_over(changelog)
    first = stage.load("o-1", 0)
    assert stage.load("o-1", 0) is first


async def test_bytes_replaced_behind_its_back_are_decoded_again() -> None:
    """As a restore after a rebalance does: the cache must not hide it."""
    codec = StateCodec(ShippingState)
    changelog = FakeChangelog()
    changelog.append(0, b"o-1", codec.dumps(Stored(state=ShippingState(booked={"s-1": "T1"}))))
    stage = await stage_over(changelog)
    assert stage.load("o-1", 0).state == ShippingState(booked={"s-1": "T1"})
    newer = codec.dumps(Stored(state=ShippingState(booked={"s-1": "T1", "s-2": "T2"})))
    await stage.state.saved({0: [StateWrite(b"o-1", newer, ())]}, {0: None})
    assert stage.load("o-1", 0).state == ShippingState(booked={"s-1": "T1", "s-2": "T2"})


async def test_a_batch_that_fails_is_tried_again_until_it_is_done(monkeypatch: pytest.MonkeyPatch) -> None:
    """faust acknowledges a batch when the agent's step returns, even when it raised: a failure must not return."""
    stage = await stage_over(FakeChangelog())
    tries: list[int] = []

    async def broker_away_twice(batch: Any) -> None:
        tries.append(len(batch))
        if len(tries) < 3:
            raise ConnectionError("broker not answering")

    monkeypatch.setattr(stage, "process", broker_away_twice)
    monkeypatch.setattr(stage_runner, "RETRY_FIRST_S", 0.001)
    await stage.process_until_done(["a", "b"])
    assert tries == [2, 2, 2]


class FakeProducer:
    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2, 3}


async def test_a_keys_home_partition_is_the_default_partitioners_on_every_worker() -> None:
    """Issue 12 chaos finding: a worker that was not its group's leader never learned partition counts (faust
    reads them from the leader's assignment snapshot), so it took records from the wrong partition."""
    homes = KeyHomes(lambda: FakeProducer())
    assert homes("t", b"o-1") is None
    await homes.learn({"t"})
    assert [homes("t", key) for key in (b"o-1", b"SKU-1", b"abc")] == [
        DefaultPartitioner()(key, [0, 1, 2, 3], [0, 1, 2, 3]) for key in (b"o-1", b"SKU-1", b"abc")
    ]
