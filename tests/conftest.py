"""Shared fixtures: one embedded broker per test session; each test isolates itself by topic prefix."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from adapters.broker import EmbeddedBroker


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
