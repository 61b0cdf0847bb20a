"""Shadow rebuild and reconcile on SQLite and PostgreSQL: a live view built the way the runner builds it (batches
interleaving the topics as they arrive) against a shadow replayed from the archive up to the live view's positions."""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, delete, select, text, update
from sqlalchemy.exc import OperationalError

from adapters.bench.seed import seed_archive
from adapters.sql.engines import drop_schema, engine_for
from adapters.sql.shadow import Reconciliation, ShadowError, reconcile, swap_in_shadow
from projections.archive import Record
from projections.projector import INVENTORY, ORDERS, Projection, apply_records, prepare_views
from projections.tables import archive, create_tables, inventory, orders
from projections.tracking import tracked_offsets

pytestmark = pytest.mark.integration


@dataclass
class Databases:
    live: Engine
    history: Engine
    log: list[Record]  # the archive in an order a live runner could have met it


def _postgres_reachable(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str) -> Iterator[Databases]:
    """A seeded archive, and an empty views database beside it (on PostgreSQL both in one schema, as in production)."""
    if request.param == "sqlite":
        live, history = (
            engine_for(f"sqlite:///{tmp_path / 'oms.sqlite3'}"),
            engine_for(f"sqlite:///{tmp_path / 'h.db'}"),
        )
    else:
        if not _postgres_reachable(postgres_url):
            pytest.skip("PostgreSQL is not reachable")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        live = history = engine_for(postgres_url, schema=schema)
    with history.begin() as conn:
        create_tables(conn, [archive])
        seed_archive(conn, orders=60, seed=5, partitions=3)
    yield Databases(live, history, arrival_order(history))
    live.dispose()
    history.dispose()
    if request.param == "postgres":
        for name in (schema, *(f"{schema}_shadow_{p}" for p in ("orders", "inventory"))):
            drop_schema(postgres_url, name)


def arrival_order(history: Engine) -> list[Record]:
    """Every archived record, partitions merged by event time, each partition in offset order."""
    query = select(
        archive.c.topic, archive.c.partition, archive.c.offset, archive.c.key, archive.c.value, archive.c.time
    )
    with history.connect() as conn:
        rows = list(conn.execute(query.order_by(archive.c.topic, archive.c.partition, archive.c.offset)))
    partitions = [list(group) for _, group in groupby(rows, key=lambda row: (row[0], row[1]))]
    merged = heapq.merge(*partitions, key=lambda row: row[5])
    return [Record(t, p, o, k, v.encode()) for t, p, o, k, v, _ in merged]


def project_live(databases: Databases, projection: Projection, upto: int | None = None, batch: int = 37) -> None:
    """What the live runner does: small batches of whatever arrived, on every topic of the projection at once."""
    mine = [r for r in databases.log if r.topic.endswith(projection.topics)][:upto]
    with databases.live.begin() as conn:
        prepare_views(conn, projection)
    for start in range(0, len(mine), batch):
        with databases.live.begin() as conn:
            apply_records(conn, projection, mine[start : start + batch])


def reconciled(databases: Databases, projection: Projection) -> Reconciliation:
    found = reconcile(databases.live, databases.history, projection, batch=500)
    found.shadow.dispose()
    return found


@pytest.mark.parametrize("projection", [ORDERS, INVENTORY], ids=lambda p: p.name)
def test_a_shadow_of_a_live_view_has_no_differences(databases: Databases, projection: Projection) -> None:
    project_live(databases, projection)
    found = reconciled(databases, projection)
    assert found.differences == []
    assert found.events > 100


def test_the_shadow_stops_at_the_live_views_positions_not_at_the_archives_end(databases: Databases) -> None:
    project_live(databases, ORDERS, upto=400)
    with databases.live.connect() as conn:
        live_positions = tracked_offsets(conn, ORDERS.name)
    found = reconciled(databases, ORDERS)
    assert found.positions == live_positions
    assert found.differences == [] and found.events < len([r for r in databases.log if r.topic.endswith(ORDERS.topics)])


def test_a_row_changed_by_hand_is_reported_with_its_key_and_field(databases: Databases) -> None:
    project_live(databases, ORDERS)
    project_live(databases, INVENTORY)
    with databases.live.begin() as conn:
        order_id, status = conn.execute(select(orders.c.order_id, orders.c.status).order_by(orders.c.order_id)).first()
        conn.execute(update(orders).where(orders.c.order_id == order_id).values(status="lost"))
        sku = conn.execute(select(inventory.c.sku).order_by(inventory.c.sku).limit(1)).scalar_one()
        conn.execute(delete(inventory).where(inventory.c.sku == sku))
    [changed] = reconciled(databases, ORDERS).differences
    assert (changed.table, dict(changed.key), changed.kind, changed.column) == (
        "orders",
        {"order_id": order_id},
        "changed",
        "status",
    )
    assert (changed.live, changed.shadow) == ("lost", status)
    [missing] = reconciled(databases, INVENTORY).differences
    assert (missing.table, dict(missing.key), missing.kind) == ("inventory", {"sku": sku}, "missing")


def test_swap_makes_the_shadow_live_and_catches_up_with_what_the_live_view_took_since(databases: Databases) -> None:
    project_live(databases, ORDERS, upto=400)
    with databases.live.begin() as conn:
        conn.execute(update(orders).values(status="lost"))
    found = reconcile(databases.live, databases.history, ORDERS)
    assert found.differences and all(d.column == "status" for d in found.differences)
    project_live(databases, ORDERS)  # the live runner goes on meanwhile
    with databases.live.connect() as conn:
        moved_on = tracked_offsets(conn, ORDERS.name)
    assert moved_on != found.positions
    applied = swap_in_shadow(databases.live, found.shadow, databases.history, ORDERS)
    found.shadow.dispose()
    assert applied > 0
    with databases.live.connect() as conn:
        assert tracked_offsets(conn, ORDERS.name) == moved_on
        assert "lost" not in set(conn.execute(select(orders.c.status)).scalars())
    assert reconciled(databases, ORDERS).differences == []


def test_a_live_view_ahead_of_the_archive_is_refused(databases: Databases) -> None:
    project_live(databases, INVENTORY)
    with databases.history.begin() as conn:
        top = conn.execute(
            select(archive.c.topic, archive.c.partition).where(archive.c.topic.endswith("inventory"))
        ).first()
        conn.execute(
            delete(archive).where(archive.c.topic == top[0], archive.c.partition == top[1], archive.c.offset > 3)
        )
    with pytest.raises(ShadowError, match="archive is behind"):
        reconcile(databases.live, databases.history, INVENTORY)
