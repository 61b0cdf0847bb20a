"""`oms check`'s view comparison on SQLite and PostgreSQL: views built batch by batch from a simulated history
equal the auditor's own fold, a hand-edited row is found, and the snapshot holds while another connection
commits (an explicit BEGIN on SQLite, REPEATABLE READ on PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from adapters.audit.findings import VIEW_MATCHES_LOG
from adapters.audit.log import AuditTopics, RawLog
from adapters.audit.report import audit_records
from adapters.audit.views import read_view_snapshot, snapshot_connection
from adapters.bench.history import simulated_history
from adapters.sql.engines import drop_schema, engine_for
from events import utc_now
from projections.projector import INVENTORY, ORDERS
from tests.integration.test_projections_contract import _postgres_reachable, as_records, build

pytestmark = pytest.mark.integration
PREFIX = "a."


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def views(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = engine_for(f"sqlite:///{tmp_path / 'views.sqlite3'}")
        yield engine
        engine.dispose()
        return
    if not _postgres_reachable(postgres_url):
        pytest.skip("PostgreSQL is not reachable")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = engine_for(postgres_url, schema=schema)
    yield engine
    engine.dispose()
    drop_schema(postgres_url, schema)


def view_violations(views: Engine, raw: RawLog) -> list[tuple[str, str]]:
    report = audit_records(raw, read_view_snapshot(views), AuditTopics(PREFIX), now=utc_now(), grace=timedelta(0))
    return [(v.subject, v.message) for v in report.violations if v.invariant == VIEW_MATCHES_LOG]


def test_views_built_batch_by_batch_equal_the_fold_and_an_edited_row_is_found(views: Engine) -> None:
    in_time_order = as_records(simulated_history(80, seed=5, run="audit"), prefix=PREFIX)
    build(views, ORDERS, in_time_order, batch=37)  # partitions interleaved as a live projector meets them
    build(views, INVENTORY, in_time_order, batch=37)
    raw = RawLog(sorted(in_time_order, key=lambda r: (r.topic, r.partition, r.offset)), {}, {})  # as read back
    assert view_violations(views, raw) == []

    with views.begin() as conn:
        key = conn.execute(text("SELECT customer_key FROM customers ORDER BY customer_key LIMIT 1")).scalar_one()
        conn.execute(text("UPDATE customers SET orders_count = orders_count + 1 WHERE customer_key = :k"), {"k": key})
    [(subject, message)] = view_violations(views, raw)
    assert subject == f"customers {key}" and "orders_count" in message


def test_the_snapshot_holds_while_another_connection_commits(views: Engine) -> None:
    with views.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (1)"))
    with snapshot_connection(views) as snapshot:
        assert snapshot.execute(text("SELECT n FROM counter")).scalar_one() == 1
        with views.begin() as other:
            other.execute(text("UPDATE counter SET n = 2"))
        assert snapshot.execute(text("SELECT n FROM counter")).scalar_one() == 1
    with views.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 2
