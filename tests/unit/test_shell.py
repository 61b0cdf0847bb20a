"""The processor loop: dedupe by offset and id, dead-letter what cannot be decoded or applied."""

from __future__ import annotations

import base64
from datetime import datetime

import orjson
from pydantic import BaseModel, ConfigDict

from events import Event, EventData, decode, encode
from pipeline.rules.common import Decision, Rejected
from pipeline.shell import Incoming, KeyedProcessor, StateCodec, Stored
from tests import builders as b


class Count(BaseModel):
    model_config = ConfigDict(frozen=True)
    received: int = 0


async def count_received(state: Count | None, event: Event[EventData], now: datetime) -> Decision[Count]:
    state = state or Count()
    if event.type == "oms.stock.adjusted":
        raise Rejected("adjustments are not allowed here")
    return Decision(Count(received=state.received + event.data.qty), (event,))  # type: ignore[attr-defined]


def processor(store: dict[str, Stored[Count]]) -> KeyedProcessor[Count]:
    return KeyedProcessor(
        "test",
        count_received,
        lambda event: [("out", event.subject)],
        lambda key: store.get(key, Stored()),
        "dead",
    )


def message(event: Event[EventData] | bytes, offset: int, partition: int = 0) -> Incoming:
    value = event if isinstance(event, bytes) else encode(event)
    key = None if isinstance(event, bytes) else event.subject.encode()
    return Incoming("oms.inventory", partition, offset, key, value)


async def test_applies_each_message_once_by_offset_and_by_event_id() -> None:
    store: dict[str, Stored[Count]] = {}
    received = b.stock_received("SKU-1", 3)
    result = await processor(store).run([message(received, 0), message(received, 1), message(received, 0)])
    assert result.states["SKU-1"][0].state == Count(received=3)
    assert len(result.messages) == 1

    store["SKU-1"] = result.states["SKU-1"][0]
    replay = await processor(store).run([message(received, 0), message(b.stock_received("SKU-1", 2), 2)])
    assert replay.states["SKU-1"][0].state == Count(received=5)
    assert len(replay.messages) == 1


async def test_undecodable_and_rejected_messages_are_dead_lettered_with_reason_and_bytes() -> None:
    from events import StockAdjusted, new_event

    adjusted = new_event(StockAdjusted(sku="SKU-2", delta=-1, reason="broken"), source="t")
    result = await processor({}).run([message(b"not json", 5), message(adjusted, 6)])
    dead = [decode(value).data for topic, _, value, _ in result.messages if topic == "dead"]
    assert [d.kind for d in dead] == ["malformed_json", "rejected"]  # type: ignore[attr-defined]
    assert base64.b64decode(dead[0].original) == b"not json"  # type: ignore[attr-defined]
    assert "not allowed" in dead[1].reason  # type: ignore[attr-defined]
    assert result.states["SKU-2"][0].offsets == {"oms.inventory:0": 6}


def test_state_codec_round_trips() -> None:
    codec = StateCodec(Count)
    stored = Stored(state=Count(received=4), offsets={"t:1": 9}, seen=["a"])
    assert codec.loads(codec.dumps(stored)) == stored
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
        "io", slow_io, lambda event: [("out", event.subject)], lambda key: Stored(), "dead", concurrent_keys=4
    )
    batch = [message(b.stock_received(f"SKU-{n % 3}", n + 1), n) for n in range(9)]
    result = await concurrent.run(batch)

    assert in_flight["most"] == 3, "three keys should have waited at once"
    for key in range(3):  # per key, applied in offset order: qty n+1 for n = key, key+3, key+6
        assert [qty for sku, qty in started if sku == f"SKU-{key}"] == [key + 1, key + 4, key + 7]
        assert result.states[f"SKU-{key}"][0].state == Count(received=(key + 1) * 100 + (key + 4) * 10 + key + 7)
    assert len(result.messages) == 9
