"""The order and inventory stages keep decoded states, but never one the table no longer holds."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pipeline.app import TableStage
from pipeline.shell import KeyedProcessor, StateCodec, Stored
from pipeline.shipping import ShippingState


def stage_over(data: dict[bytes, bytes]) -> TableStage:
    def no_processor(load: Any) -> KeyedProcessor[Any]:
        return KeyedProcessor("test", None, None, load, "dead")  # type: ignore[arg-type]

    table = SimpleNamespace(name="order_to_shipments", data=data)
    return TableStage(app=None, table=table, processor_factory=no_processor, state_type=ShippingState)  # type: ignore[arg-type]


def test_a_state_is_decoded_once_while_the_table_holds_the_same_bytes() -> None:
    codec = StateCodec(ShippingState)
    data = {b"o-1": codec.dumps(Stored(state=ShippingState(booked={"s-1": "T1"})))}
    stage = stage_over(data)
    first = stage.load("o-1")
    assert stage.load("o-1") is first


def test_bytes_replaced_behind_its_back_are_decoded_again() -> None:
    """As a changelog recovery after a rebalance does: the cache must not hide it."""
    codec = StateCodec(ShippingState)
    data = {b"o-1": codec.dumps(Stored(state=ShippingState(booked={"s-1": "T1"})))}
    stage = stage_over(data)
    assert stage.load("o-1").state == ShippingState(booked={"s-1": "T1"})
    data[b"o-1"] = codec.dumps(Stored(state=ShippingState(booked={"s-1": "T1", "s-2": "T2"})))
    assert stage.load("o-1").state == ShippingState(booked={"s-1": "T1", "s-2": "T2"})
    del data[b"o-1"]
    assert stage.load("o-1").state is None
