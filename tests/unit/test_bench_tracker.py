"""The bench's tracker: when an order counts as done, and what it says about the orders that are not."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest

from adapters.bench.observe import BenchFailed, Tracker

ORDERS, NOTIFICATIONS = ("b.oms.orders", 0), ("b.oms.notifications", 1)


def _record(offset: int, order_id: str, kind: str) -> SimpleNamespace:
    values = {
        "confirmed": b'{"type":"oms.order.confirmed"}',
        "shipped": b'{"type":"oms.order.shipped"}',
        "notified": b'{"type":"oms.notification.sent","data":{"kind":"shipped"}}',
    }
    return SimpleNamespace(offset=offset, key=order_id.encode(), value=values[kind])


def _tracker() -> Tracker:
    return Tracker("127.0.0.1:0", "b.", Path("unused.sqlite3"))


def test_an_order_is_done_once_the_projector_covers_its_shipment_and_its_notification() -> None:
    tracker = _tracker()
    tracker.placed("l-1", 1.0)
    tracker._took(ORDERS, True, [_record(0, "l-1", "confirmed"), _record(1, "l-1", "shipped")], 2.0)
    tracker._took(NOTIFICATIONS, False, [_record(0, "l-1", "notified")], 3.0)
    tracker._covered({ORDERS: 0, NOTIFICATIONS: 0}, 4.0)  # the shipment (offset 1) not yet projected
    assert tracker.done_count("l-") == 0
    assert "1 notified, shipment not projected" in tracker.stuck(["l-1"])

    tracker._covered({ORDERS: 1, NOTIFICATIONS: 0}, 5.0)
    assert tracker.done_count("l-") == 1
    assert tracker.orders["l-1"].done == 5.0
    assert tracker.stuck(["l-1"]) == ""


def test_the_stuck_report_gives_each_partitions_positions_and_any_offset_the_tail_skipped() -> None:
    tracker = _tracker()
    tracker._took(ORDERS, True, [_record(3, "l-1", "confirmed"), _record(5, "l-1", "shipped")], 1.0)
    tracker._took(NOTIFICATIONS, False, [_record(0, "l-1", "notified")], 1.0)
    tracker._covered({ORDERS: 4, NOTIFICATIONS: 0}, 2.0)
    report = tracker.stuck(["l-1"])
    assert "b.oms.orders/0 tailed 5 projected 4, waiting from 5 (1)" in report
    assert "b.oms.notifications/1 tailed 0 projected 0" in report
    assert "tail skipped offsets: b.oms.orders/0 3->5" in report


async def test_a_stopped_poller_fails_the_wait_instead_of_leaving_orders_undone() -> None:
    tracker = _tracker()

    async def poller() -> None:
        raise OSError("disk gone")

    tracker._tasks = [asyncio.create_task(poller(), name="projector poller")]
    await asyncio.sleep(0)
    with pytest.raises(BenchFailed, match="projector poller stopped: OSError"):
        await tracker.wait_done("l-", 1, timeout_s=5, check=lambda: None)
