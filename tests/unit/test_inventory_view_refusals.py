"""A stock adjustment the inventory processor refused is undone in the inventory view by its dead letter."""

from __future__ import annotations

import base64

from events import DeadLetterRecorded, StockAdjusted, encode, new_event
from projections.inventory import evolve_stock, reversal_of
from tests import builders as b


def test_a_refused_adjustment_does_not_change_the_view() -> None:
    received = b.stock_received("LAMP", 5)
    refused = new_event(StockAdjusted(sku="LAMP", delta=-4, reason="count"), source="ops")
    dead = new_event(
        DeadLetterRecorded(
            original_key="LAMP",
            source_topic="oms.inventory",
            source_partition=0,
            source_offset=7,
            processor="inventory",
            kind="rejected",
            reason="adjustment of -4 would leave 1 on hand under 3 reserved",
            original=base64.b64encode(encode(refused)).decode(),
        ),
        source="oms.pipeline.inventory",
    )
    row = evolve_stock(evolve_stock(None, received), refused)
    assert row["on_hand"] == 1
    undo = reversal_of(dead)
    assert undo is not None
    assert evolve_stock(row, undo)["on_hand"] == 5


def test_other_dead_letters_change_nothing() -> None:
    dead = new_event(
        DeadLetterRecorded(
            original_key="o-1",
            source_topic="oms.orders",
            source_partition=0,
            source_offset=1,
            processor="orders",
            kind="rejected",
            reason="unknown order",
            original=base64.b64encode(b"{}").decode(),
        ),
        source="oms.pipeline.orders",
    )
    assert reversal_of(dead) is None


def test_the_view_does_not_depend_on_how_the_dead_letter_topic_interleaves() -> None:
    """The dead letter comes from another topic: applied before or after later stock events, same row."""
    received = b.stock_received("LAMP", 5)
    refused = new_event(StockAdjusted(sku="LAMP", delta=-4, reason="count"), source="ops")
    dead = new_event(
        DeadLetterRecorded(
            original_key="LAMP",
            source_topic="oms.inventory",
            source_partition=0,
            source_offset=7,
            processor="inventory",
            kind="rejected",
            reason="adjustment of -4 would leave 1 on hand under 3 reserved",
            original=base64.b64encode(encode(refused)).decode(),
        ),
        source="oms.pipeline.inventory",
    )
    later = b.stock_received("LAMP", 2)
    undo = reversal_of(dead)
    assert undo is not None
    assert later.time > undo.time

    def fold(*events):  # type: ignore[no-untyped-def]
        row = None
        for event in events:
            row = evolve_stock(row, event)
        return row

    assert fold(received, refused, undo, later) == fold(received, refused, later, undo)
