"""Issue 16, items 1, 2 and 7: the demo's counters come from the log, each row once for this run and once for
the whole log; a child that stops by itself ends the demo with what it said; off a terminal (`| tee`) the demo
prints plain progress lines instead of a live table nobody sees."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from datetime import datetime

from rich.console import Console

from adapters.demo.runner import show_until_stopped
from adapters.demo.tally import Tally, counters_table, progress_line
from events import Event, EventData, OrderConfirmed, OrderShipped
from tests.unit.test_sql_read_model import DAY1, on, placed

ORDERS = "oms.orders"


def shipped(order_id: str) -> Event[EventData]:
    return on(
        OrderShipped(
            order_id=order_id, shipment_id=f"s-{order_id}", carrier="sim", tracking_number="T", tracking_url="u"
        )
    )


def restarted_tally() -> tuple[Tally, list[Event[EventData]]]:
    """A log of 3 orders from an earlier run (offsets 0-5 of partition 0), then 1 order in this run."""
    tally = Tally(run_starts={(ORDERS, 0): 6, (ORDERS, 1): 0})
    earlier = [placed(f"o-{n}", "webshop", "a@example.com", {"MUG": (1, "9.50")}, DAY1) for n in range(3)]
    earlier += [on(OrderConfirmed(order_id=f"o-{n}")) for n in range(3)]
    for offset, event in enumerate(earlier):
        tally.add(ORDERS, 0, offset, event)
    return tally, earlier


def test_after_a_restart_every_row_counts_this_run_and_the_whole_log_apart() -> None:
    tally, _ = restarted_tally()
    now = [placed("o-9", "pos", "b@example.com", {"MUG": (1, "9.50")}, DAY1), on(OrderConfirmed(order_id="o-9"))]
    for offset, event in enumerate(now, start=6):
        assert tally.add(ORDERS, 0, offset, event), "an event of this run"

    assert tally.cells("oms.order.placed") == ("1", "4")
    assert tally.cells("oms.order.confirmed") == ("1", "4")
    assert tally.cells("placed by channel") == ("0 / 0 / 1 / 0", "3 / 0 / 1 / 0")


def test_an_id_already_on_the_log_counts_once_and_is_not_acted_on_again() -> None:
    tally, earlier = restarted_tally()
    redelivered = earlier[0]

    assert not tally.add(ORDERS, 0, 7, redelivered)
    assert tally.cells("oms.order.placed") == ("0", "3")


def test_the_table_and_the_progress_line_say_which_count_is_which() -> None:
    tally, _ = restarted_tally()
    screen = Console(file=io.StringIO(), width=100, color_system=None)

    screen.print(counters_table(tally, "http://127.0.0.1:8000/dashboard"))
    shown = screen.file.getvalue()  # type: ignore[attr-defined]

    assert "this run" in shown and "all" in shown and "whole log" in shown
    assert "this run/all: orders placed 0/3, confirmed 0/3" in progress_line(tally, datetime(2026, 1, 1, 12))


@dataclass
class FakeSupervisor:
    stops: list[str] = field(default_factory=list)

    def unexpected_stops(self) -> list[str]:
        return self.stops


async def test_off_a_terminal_the_demo_prints_plain_progress_lines() -> None:
    tally, _ = restarted_tally()
    out = io.StringIO()
    piped = Console(file=out, force_terminal=False)

    failures = await show_until_stopped(
        tally,
        FakeSupervisor(),
        asyncio.Event(),
        1.0,
        piped,
        "url",
        progress_every_s=0.5,  # type: ignore[arg-type]
    )

    assert failures == []
    progress = [line for line in out.getvalue().splitlines() if "this run/all:" in line]
    assert len(progress) == 2, out.getvalue()
    assert "\x1b[" not in out.getvalue(), "no terminal control codes in a pipe"


async def test_a_child_that_stops_by_itself_ends_the_demo_with_what_it_said() -> None:
    tally, _ = restarted_tally()
    out = io.StringIO()
    said = "api stopped unexpectedly (exit 1): [Errno 98] address already in use (see logs/api.log)"

    failures = await show_until_stopped(
        tally,
        FakeSupervisor([said]),
        asyncio.Event(),
        None,
        Console(file=out),
        "url",  # type: ignore[arg-type]
    )

    assert failures == [said]
    assert said in out.getvalue()
