"""The consumer's hand-over fast path: a coroutine runs inline until it would block, then as a task would."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pipeline.runtime.faust_internals import _Resumed, _step


async def test_a_coroutine_that_never_waits_finishes_inline() -> None:
    async def hand_over() -> str:
        return "delivered"

    assert _step(hand_over()) == (True, "delivered")


async def test_a_coroutine_that_waits_is_carried_on_by_a_task_until_it_finishes() -> None:
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    steps: list[str] = []

    async def hand_over() -> str:
        steps.append("before")
        value = await gate
        steps.append(f"after {value}")
        await asyncio.sleep(0)
        return "delivered"

    coroutine = hand_over()
    finished, waiting_on = _step(coroutine)
    assert not finished and waiting_on is gate and steps == ["before"]
    task = asyncio.ensure_future(_Resumed(coroutine, waiting_on))
    await asyncio.sleep(0)
    assert not task.done()
    gate.set_result("open")
    assert await task == "delivered"
    assert steps == ["before", "after open"]


async def test_cancelling_the_task_cancels_the_waiting_coroutine() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    cleaned_up: list[bool] = []

    async def hand_over() -> None:
        try:
            await gate
        finally:
            cleaned_up.append(True)

    coroutine = hand_over()
    _finished, waiting_on = _step(coroutine)
    task = asyncio.ensure_future(_Resumed(coroutine, waiting_on))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned_up == [True]


def test_the_app_runs_without_faust_s_monitor_sensor(caplog: pytest.LogCaptureFixture) -> None:
    from pipeline.runtime.faust_internals import App

    app = App("t-monitor", broker="kafka://127.0.0.1:9", autodiscover=False, web_enabled=False)
    app.on_init_dependencies()
    assert app.monitor not in app.sensors
    app.on_init_dependencies()  # a second start does not fail on the sensor already gone
    assert app.monitor not in app.sensors
    with caplog.at_level(logging.WARNING):
        app.on_rebalance_start()
        app.on_rebalance_return()
        app.on_rebalance_end()
    assert not [r for r in caplog.records if "Missing sensor state" in r.getMessage()]
