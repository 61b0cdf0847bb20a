"""Shared fixtures: one embedded broker per test session; each test isolates itself by topic prefix. The run's
profile (tests/profiles.py) decides how many examples property tests draw and whether `nightly` tests run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from adapters.kafka.broker import EmbeddedBroker
from tests.profiles import NIGHTLY


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Outside the nightly run, leave out the tests that only repeat a default check with more examples."""
    if NIGHTLY:
        return
    nightly = [item for item in items if item.get_closest_marker("nightly")]
    if nightly:
        config.hook.pytest_deselected(items=nightly)
        items[:] = [item for item in items if not item.get_closest_marker("nightly")]


def pytest_report_header(config: pytest.Config) -> str:
    if NIGHTLY:
        return "test profile: nightly (every example budget in full, nightly tests included)"
    return "test profile: default (OMS_TEST_PROFILE=nightly runs the full example budgets and the nightly tests)"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The real broker the integration tests talk to: OMS_TEST_KAFKA_BOOTSTRAP, or an embedded one."""
    configured = os.environ.get("OMS_TEST_KAFKA_BOOTSTRAP")
    if configured:
        yield configured
        return
    with EmbeddedBroker() as broker:
        yield broker.bootstrap


@pytest.fixture
def topic_prefix() -> str:
    """A prefix unique to the test, so tests sharing the broker never see each other's events."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return os.environ.get("OMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
