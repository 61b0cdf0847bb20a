"""The intake store on SQLite and PostgreSQL alike: placed orders, and the last value published of each aspect
of a shop's updates, with the time the shop changed it (in UTC, whatever the backend gives back)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from adapters.sql.engines import drop_schema, engine_for
from adapters.sql.intake import IntakeStore, PublishedFact

pytestmark = pytest.mark.integration


def is_reachable(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str) -> Iterator[IntakeStore]:
    if request.param == "sqlite":
        opened = IntakeStore(create_engine(f"sqlite:///{tmp_path / 'intake.sqlite3'}"))
        yield opened
        opened.close()
        return
    if not is_reachable(postgres_url):
        pytest.skip("PostgreSQL is not reachable")
    schema = f"intake_{uuid.uuid4().hex[:12]}"
    opened = IntakeStore(engine_for(postgres_url, schema=schema))
    try:
        yield opened
    finally:
        opened.close()
        drop_schema(postgres_url, schema)


def test_the_last_value_of_each_aspect_is_kept_per_order(store: IntakeStore) -> None:
    berlin = datetime(2026, 1, 31, 13, 45, 12, tzinfo=timezone(timedelta(hours=1)))
    lines = PublishedFact("lines", "a" * 32, berlin, '{"lines": []}')
    paid = PublishedFact("payment:shopify:1", "b" * 32, None, '{"amount": "89.70"}')
    store.remember_facts("shopify", "1", [lines, paid])
    store.remember_facts("shopify", "2", [PublishedFact("cancel", "c" * 32, None, "{}")])
    changed = PublishedFact("lines", "d" * 32, berlin + timedelta(hours=2), '{"lines": [1]}')
    store.remember_facts("shopify", "1", [changed])

    kept = store.published_facts("shopify", "1")
    assert kept == {"lines": changed, "payment:shopify:1": paid}
    assert kept["lines"].changed_at == datetime(2026, 1, 31, 14, 45, 12, tzinfo=UTC)
    assert store.published_facts("woocommerce", "1") == {}
    assert set(store.published_facts("shopify", "2")) == {"cancel"}
