"""Settings from the environment reach the processors' configuration."""

from __future__ import annotations

import pytest

from adapters.bootstrap import pipeline_config
from adapters.settings import Settings


def test_fetch_wait_and_batch_window_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_FETCH_MAX_WAIT_MS", "40")
    monkeypatch.setenv("OMS_BATCH_WITHIN_MS", "50")
    config = pipeline_config(Settings(), "127.0.0.1:9092")
    assert config.fetch_max_wait_ms == 40
    assert config.batch_within_s == pytest.approx(0.05)


def test_a_negative_batch_window_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_BATCH_WITHIN_MS", "-1")
    with pytest.raises(ValueError, match="batch_within_ms"):
        Settings()
