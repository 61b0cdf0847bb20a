"""A stage's state: restored to the changelog's end before use, caught up incrementally, kept over a rebalance."""

from __future__ import annotations

import orjson
import pytest

from pipeline.ports import StateWrite
from pipeline.stages.state import StageState, Written, applied_ids_of
from tests.unit.fakes_state import FakeChangelog, FakeLocalStore


def record(state: int, *ids: str) -> bytes:
    return orjson.dumps({"s": {"n": state}, "o": {}, "a": list(ids)})


async def test_a_partition_is_restored_to_the_changelogs_end_with_every_applied_id() -> None:
    changelog, store = FakeChangelog(), FakeLocalStore()
    for n in range(5):
        changelog.append(0, b"k", record(n, f"id-{n}"))
    state = StageState("stage", "log", store, changelog)
    state.assign({0})
    with pytest.raises(LookupError):
        state.get(0, b"k")
    await state.restore({0})
    assert orjson.loads(state.get(0, b"k") or b"")["s"] == {"n": 4}
    assert state.applied(["id-0", "id-4", "id-9"]) == {"id-0", "id-4"}
    assert store.positions[("stage", 0)] == 5


async def test_a_restart_reads_only_what_was_written_after_the_local_copy() -> None:
    changelog, store = FakeChangelog(), FakeLocalStore()
    for n in range(3):
        changelog.append(0, b"k", record(n))
    first = StageState("stage", "log", store, changelog)
    await first.restore({0})
    changelog.append(0, b"k", record(3, "late"))  # another worker wrote while this one was away
    second = StageState("stage", "log", store, changelog)
    await second.restore({0})
    assert changelog.reads[-1] == {0: 3}
    assert orjson.loads(second.get(0, b"k") or b"")["s"] == {"n": 3}
    assert second.applied(["late"]) == {"late"}


async def test_own_writes_move_the_local_position_only_when_nobody_wrote_in_between() -> None:
    changelog, store = FakeChangelog(), FakeLocalStore()
    state = StageState("stage", "log", store, changelog)
    await state.restore({0})
    offset = changelog.append(0, b"k", record(1, "a"))
    await state.saved({0: [StateWrite(b"k", record(1, "a"), ("a",))]}, {0: Written(0, offset, 1)})
    await state.flush()
    assert store.positions[("stage", 0)] == 1
    changelog.append(0, b"x", record(7))  # a write this worker did not make
    offset = changelog.append(0, b"k", record(2, "b"))
    await state.saved({0: [StateWrite(b"k", record(2, "b"), ("b",))]}, {0: Written(0, offset, 1)})
    await state.flush()
    assert store.positions[("stage", 0)] == 1, "the gap must be read from the changelog at the next restore"


async def test_the_local_copy_is_written_now_and_then_and_an_applied_id_counts_before_it_is() -> None:
    changelog, store = FakeChangelog(), FakeLocalStore()
    state = StageState("stage", "log", store, changelog)
    await state.restore({0})
    offset = changelog.append(0, b"k", record(1, "a"))
    await state.saved({0: [StateWrite(b"k", record(1, "a"), ("a",))]}, {0: Written(0, offset, 1)})
    assert store.states.get(("stage", 0), {}) == {}, "not written to the local copy at every batch"
    assert state.applied(["a", "b"]) == {"a"}, "an id applied since the last flush is known all the same"
    await state.flush()
    assert store.states[("stage", 0)] == {b"k": record(1, "a")} and store.ids["stage"] == {"a"}


async def test_a_catch_up_never_moves_the_local_copy_past_own_writes_it_does_not_hold() -> None:
    """Another worker wrote after this one's unflushed writes: the catch-up must not record a position past them
    in the local copy without them."""
    changelog, store = FakeChangelog(), FakeLocalStore()
    state = StageState("stage", "log", store, changelog)
    state.assign({0})
    await state.restore({0})
    offset = changelog.append(0, b"mine", record(1, "a"))
    await state.saved({0: [StateWrite(b"mine", record(1, "a"), ("a",))]}, {0: Written(0, offset, 1)})
    state.revoke()
    changelog.append(0, b"theirs", record(2, "b"))
    await state.restore({0})
    fresh = StageState("stage", "log", store, FakeChangelog())  # a restart that finds an empty changelog
    await fresh.restore({0})
    assert fresh.get(0, b"mine") == record(1, "a") and fresh.get(0, b"theirs") == record(2, "b")


async def test_after_a_rebalance_an_owned_partition_is_caught_up_before_use_and_others_are_forgotten() -> None:
    changelog, store = FakeChangelog(), FakeLocalStore()
    changelog.append(0, b"k", record(1))
    changelog.append(1, b"j", record(1))
    state = StageState("stage", "log", store, changelog)
    state.assign({0, 1})
    await state.restore({0, 1})
    state.revoke()
    state.assign({0})
    changelog.append(0, b"k", record(2))
    with pytest.raises(LookupError):
        state.get(0, b"k")
    await state.restore({0})
    assert changelog.reads[-1] == {0: 1}, "kept in memory: only the new record is read"
    assert orjson.loads(state.get(0, b"k") or b"")["s"] == {"n": 2}
    assert state.restored_partitions() == [0]
    assert store.loads == [("stage", 0), ("stage", 1)]


async def test_a_partition_a_batch_restored_before_faust_announced_the_assignment_stays_current() -> None:
    """faust resumes the streams before it sends its partitions-assigned signal: a batch of the new assignment may
    restore its partition first, and then load states while it awaits a carrier. The signal must not pull the
    partition from under it (a stage that crashed on it left a rebalance waiting for ever)."""
    changelog, store = FakeChangelog(), FakeLocalStore()
    changelog.append(0, b"k", record(1))
    state = StageState("stage", "log", store, changelog)
    state.revoke()
    await state.restore({0})
    state.assign({0, 1})
    assert orjson.loads(state.get(0, b"k") or b"")["s"] == {"n": 1}
    state.assign({1})
    with pytest.raises(LookupError):
        state.get(0, b"k")


async def test_a_changelog_that_began_anew_keeps_the_local_states() -> None:
    """The embedded broker forgets its log when it stops: the local copy is then the only memory."""
    store = FakeLocalStore()
    store.save("stage", 0, [StateWrite(b"k", record(9, "x"), ("x",))], 40)
    state = StageState("stage", "log", store, FakeChangelog())
    await state.restore({0})
    assert orjson.loads(state.get(0, b"k") or b"")["s"] == {"n": 9}
    assert store.positions[("stage", 0)] == 0


def test_applied_ids_come_from_new_and_older_changelog_records() -> None:
    assert applied_ids_of(record(1, "a", "b")) == ("a", "b")
    assert applied_ids_of(orjson.dumps({"s": None, "o": {}, "i": ["old"]})) == ("old",)
    assert applied_ids_of(b"not json") == ()
