"""The pipeline's faust consumer asks for short fetch waits (the embedded broker holds a fetch for all of it)."""

from __future__ import annotations

from pipeline.app import faust_app
from pipeline.config import PipelineConfig
from pipeline.transport import FETCH_MAX_WAIT_MS


async def test_the_worker_consumer_waits_briefly_for_a_fetch() -> None:
    app = faust_app(PipelineConfig(bootstrap="127.0.0.1:9"))
    consumer = app.consumer._thread._create_worker_consumer(app.transport)
    assert consumer._fetch_max_wait_ms == FETCH_MAX_WAIT_MS < 1500


async def test_the_fetch_wait_is_configurable() -> None:
    app = faust_app(PipelineConfig(bootstrap="127.0.0.1:9", fetch_max_wait_ms=7))
    assert app.consumer._thread._create_worker_consumer(app.transport)._fetch_max_wait_ms == 7
