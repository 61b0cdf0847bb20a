"""The processor loop: dedupe by offset and by the stage's index of applied ids, dead-letter what it cannot take."""

from __future__ import annotations

import base64
from datetime import datetime

import orjson
from pydantic import BaseModel, ConfigDict

from events import DeadLetterRecorded, Event, EventData, decode, encode
from pipeline.rules.common import Decision, Rejected
from pipeline.stages.deadletters import ORIGINAL_KEPT
from pipeline.stages.intake import MAX_EVENT_BYTES, Intake
from pipeline.stages.processor import KeyedProcessor
from pipeline.stages.records import Incoming
from pipeline.stages.stored import StateCodec, Stored
from tests import builders as b


class Count(BaseModel):
    model_config = ConfigDict(frozen=True)
    received: int = 0


async def count_received(state: Count | None, event: Event[EventData], now: datetime) -> Decision[Count]:
    state = state or Count()
    if event.type == "oms.stock.adjusted":
        raise Rejected("adjustments are not allowed here")
    return Decision(Count(received=state.received + event.data.qty), (event,))  # type: ignore[attr-defined]


def processor(
    store: dict[str, Stored[Count]], index: set[str] | None = None, intake: Intake | None = None
) -> KeyedProcessor[Count]:
    applied_before = index or set()
    return KeyedProcessor(
        "test",
        count_received,
        lambda event: [("out", event.subject)],
        lambda key, partition: store.get(key, Stored()),
        "dead",
        applied=lambda ids: {event_id for event_id in ids if event_id in applied_before},
        intake=intake,
    )


def message(event: Event[EventData] | bytes, offset: int, partition: int = 0) -> Incoming:
    value = event if isinstance(event, bytes) else encode(event)
    key = None if isinstance(event, bytes) else event.subject.encode()
    return Incoming("oms.inventory", partition, offset, key, value)


def dead_letters(result: object) -> list[DeadLetterRecorded]:
    return [decode(value).data for topic, _, value, _ in result.messages if topic == "dead"]  # type: ignore[attr-defined, misc]


async def test_applies_each_message_once_by_offset_and_by_event_id() -> None:
    store: dict[str, Stored[Count]] = {}
    received = b.stock_received("SKU-1", 3)
    result = await processor(store).run([message(received, 0), message(received, 1), message(received, 0)])
    assert result.states["SKU-1"][0].state == Count(received=3)
    assert result.states["SKU-1"][0].fresh_ids == (str(received.id),)
    assert len(result.messages) == 1

    store["SKU-1"] = result.states["SKU-1"][0]
    replay = await processor(store).run([message(received, 0), message(b.stock_received("SKU-1", 2), 2)])
    assert replay.states["SKU-1"][0].state == Count(received=5)
    assert len(replay.messages) == 1


async def test_a_duplicate_is_dropped_by_the_stage_index_however_late_it_comes_back() -> None:
    """Issue 12.4: a receipt re-delivered verbatim 547 records later was added to on hand again (the key kept
    only its last 64 ids). The index of every id the stage applied has no window."""
    received = b.stock_received("SKU-1", 80)
    applied_long_ago = {str(received.id)}
    store = {"SKU-1": Stored(state=Count(received=80), offsets={"oms.inventory:0": 99_999})}
    late = await processor(store, applied_long_ago).run([message(received, 100_547)])
    assert late.states == {}
    assert late.messages == []


async def test_a_tombstone_a_foreign_key_and_an_oversized_record_are_dead_lettered_and_the_partition_moves_on() -> None:
    """Issue 12.5: a null value raised TypeError and a non-UTF-8 key UnicodeDecodeError: the batch was lost."""
    after = b.stock_received("SKU-9", 2)
    huge = b"{" + b" " * (MAX_EVENT_BYTES + 10) + b"}"
    batch = [
        Incoming("oms.inventory", 0, 1, b"SKU-9", None),
        Incoming("oms.inventory", 0, 2, b"\xff\xfe", encode(b.stock_received("SKU-9", 5))),
        Incoming("oms.inventory", 0, 3, b"SKU-9", huge),
        message(after, 4),
    ]
    result = await processor({}).run(batch)
    dead = dead_letters(result)
    assert [d.kind for d in dead] == ["no_value", "invalid_key", "oversized"]
    assert [d.source_offset for d in dead] == [1, 2, 3]
    assert dead[0].original_size is None
    assert len(base64.b64decode(dead[2].original)) == ORIGINAL_KEPT
    assert dead[2].original_size == len(huge)
    assert dead[1].original_key == "\ufffd\ufffd"
    assert result.states["SKU-9"][0].state == Count(received=2), "the valid record after them is applied"


async def test_an_event_on_the_wrong_topic_or_key_or_partition_is_dead_lettered_not_dropped() -> None:
    """Issue 12.6: `oms.order.placed` on the inventory topic vanished without a trace."""
    intake = Intake({"oms.inventory": "oms.inventory"}, partition_of=lambda topic, key: 0 if key == b"SKU-1" else 1)
    placed = b.order_placed("o-1", {"SKU-1": 1})
    receipt = b.stock_received("SKU-1", 3)
    batch = [
        Incoming("oms.inventory", 1, 0, b"o-1", encode(placed)),
        Incoming("oms.inventory", 0, 1, b"SKU-2", encode(receipt)),
        Incoming("oms.inventory", 1, 2, b"SKU-1", encode(receipt)),
        Incoming("oms.inventory", 0, 3, b"SKU-1", encode(receipt)),
    ]
    result = await processor({}, intake=intake).run(batch)
    dead = dead_letters(result)
    assert [d.kind for d in dead] == ["wrong_topic", "wrong_key", "wrong_partition"]
    assert "belongs on oms.orders" in dead[0].reason
    assert "must be keyed by 'SKU-1'" in dead[1].reason
    assert "murmur2" in dead[2].reason
    assert result.states["SKU-1"][0].state == Count(received=3)


async def test_undecodable_and_rejected_messages_are_dead_lettered_with_reason_and_bytes() -> None:
    from events import StockAdjusted, new_event

    adjusted = new_event(StockAdjusted(sku="SKU-2", delta=-1, reason="broken"), source="t")
    result = await processor({}).run([message(b"not json", 5), message(adjusted, 6)])
    dead = dead_letters(result)
    assert [d.kind for d in dead] == ["malformed_json", "rejected"]
    assert base64.b64decode(dead[0].original) == b"not json"
    assert "not allowed" in dead[1].reason
    assert result.states["SKU-2"][0].offsets == {"oms.inventory:0": 6}


def test_state_codec_round_trips() -> None:
    codec = StateCodec(Count)
    stored = Stored(state=Count(received=4), offsets={"t:1": 9}, fresh_ids=("a",))
    assert codec.loads(codec.dumps(stored)) == Stored(state=Count(received=4), offsets={"t:1": 9})
    assert orjson.loads(codec.dumps(stored))["a"] == ["a"], "the changelog record carries the ids it applied"
    assert codec.loads(None) == Stored()
    assert orjson.loads(codec.dumps(Stored()))["s"] is None


async def test_io_stages_wait_on_different_keys_side_by_side_and_on_one_key_in_order() -> None:
    import asyncio

    started: list[tuple[str, int]] = []
    in_flight = {"now": 0, "most": 0}

    async def slow_io(state: Count | None, event: Event[EventData], now: datetime) -> Decision[Count]:
        state = state or Count()
        started.append((event.subject, event.data.qty))  # type: ignore[attr-defined]
        in_flight["now"] += 1
        in_flight["most"] = max(in_flight["most"], in_flight["now"])
        await asyncio.sleep(0.01)
        in_flight["now"] -= 1
        return Decision(Count(received=state.received * 10 + event.data.qty), (event,))  # type: ignore[attr-defined]

    concurrent = KeyedProcessor(
        "io",
        slow_io,
        lambda event: [("out", event.subject)],
        lambda key, partition: Stored(),
        "dead",
        concurrent_keys=4,
    )
    batch = [message(b.stock_received(f"SKU-{n % 3}", n + 1), n) for n in range(9)]
    result = await concurrent.run(batch)

    assert in_flight["most"] == 3, "three keys should have waited at once"
    for key in range(3):  # per key, applied in offset order: qty n+1 for n = key, key+3, key+6
        assert [qty for sku, qty in started if sku == f"SKU-{key}"] == [key + 1, key + 4, key + 7]
        assert result.states[f"SKU-{key}"][0].state == Count(received=(key + 1) * 100 + (key + 4) * 10 + key + 7)
    assert len(result.messages) == 9


async def test_a_record_that_claims_a_type_the_stage_ignores_must_be_the_pipelines_own() -> None:
    """Chaos finding: a stage passed over any JSON object whose `type` was one of its own outputs, unread: a record
    that only claims the type, or one another producer wrote, is dead-lettered; the stage's own still pass."""
    stage = KeyedProcessor(
        "test",
        count_received,
        lambda event: [("out", event.subject)],
        lambda key, partition: Stored(),
        "dead",
        frozenset({"oms.stock.low"}),
    )
    low = orjson.loads(encode(b.stock_received("SKU-1", 1)))
    low.update(type="oms.stock.low", source="oms.pipeline.inventory", data={"anything": True})
    forged = {**low, "source": "somebody"}
    batch = [
        Incoming("oms.inventory", 0, 0, b"SKU-1", b'{"type": "oms.stock.low", "data": "not an event"}'),
        Incoming("oms.inventory", 0, 1, b"SKU-1", orjson.dumps(forged)),
        Incoming("oms.inventory", 0, 2, b"SKU-1", orjson.dumps(low)),
    ]
    result = await stage.run(batch)
    assert [(d.source_offset, d.kind) for d in dead_letters(result)] == [(0, "not_cloudevent"), (1, "reserved_type")]
    assert result.states == {}
