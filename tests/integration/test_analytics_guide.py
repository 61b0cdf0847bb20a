"""docs/analytics.md: every DuckDB query of the guide, run against the export of a seeded archive and checked against
the views rebuilt from the same archive, so the guide cannot rot."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import Engine, select

from adapters.bench.seed import seed_archive
from adapters.sql.archive import export_parquet
from adapters.sql.engines import engine_for
from projections.projector import INVENTORY, ORDERS
from projections.replay import replay
from projections.tables import archive, create_tables, inventory, orders

pytestmark = pytest.mark.integration
GUIDE = Path(__file__).parents[2] / "docs" / "analytics.md"
QUERIES = dict(re.findall(r"<!-- query: (\w+) -->\n```sql\n(.*?)```", GUIDE.read_text(), re.S))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[duckdb.DuckDBPyConnection, Engine]:
    """The guide's `events` view over the export of a seeded archive, and the views replayed from that archive."""
    folder = tmp_path_factory.mktemp("guide")
    history, views = engine_for(f"sqlite:///{folder / 'history.sqlite3'}"), engine_for(f"sqlite:///{folder / 'v.db'}")
    with history.begin() as conn:
        create_tables(conn, [archive])
        seed_archive(conn, orders=150, seed=9)
    with history.connect() as conn:
        for projection in (ORDERS, INVENTORY):
            replay(conn, views, projection)
        export_parquet(conn, folder / "history")
    db = duckdb.connect()
    [setup] = re.findall(r"```sql\n(SET TimeZone.*?)```", GUIDE.read_text(), re.S)
    for statement in filter(str.strip, setup.replace("'history/", f"'{folder}/history/").split(";")):
        db.execute(statement)
    return db, views


def rows(db: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, object]]:
    result = db.sql(QUERIES[name])
    return [dict(zip(result.columns, row, strict=True)) for row in result.fetchall()]


def test_the_guide_has_the_three_reports() -> None:
    assert set(QUERIES) == {"sales_by_channel_and_day", "inventory_turnover", "processing_time_percentiles"}


def test_sales_by_channel_and_day_count_the_orders_view_by_placement_day(
    seeded: tuple[duckdb.DuckDBPyConnection, Engine],
) -> None:
    db, views = seeded
    report = rows(db, "sales_by_channel_and_day")
    with views.connect() as conn:
        placed = Counter(
            (at.date(), channel) for at, channel in conn.execute(select(orders.c.placed_at, orders.c.channel))
        )
    assert {(r["day"], r["channel"]): r["orders"] for r in report} == placed
    assert len({r["channel"] for r in report}) > 1 and len({r["day"] for r in report}) > 1
    assert all(r["revenue"] > 0 and 0 <= r["cancelled_orders"] <= r["orders"] for r in report)
    assert all((r["revenue_kept"] or 0) <= r["revenue"] for r in report)


def test_inventory_turnover_ends_at_the_inventory_views_stock(seeded: tuple[duckdb.DuckDBPyConnection, Engine]) -> None:
    db, views = seeded
    report = rows(db, "inventory_turnover")
    with views.connect() as conn:
        on_hand = dict(conn.execute(select(inventory.c.sku, inventory.c.on_hand)).all())
    assert {r["sku"]: r["on_hand_now"] for r in report} == {
        sku: n for sku, n in on_hand.items() if sku in {r["sku"] for r in report}
    }
    assert len(report) == len(on_hand)
    assert any(r["turnover"] and r["turnover"] > 0 for r in report)


def test_processing_time_percentiles_match_the_orders_view(seeded: tuple[duckdb.DuckDBPyConnection, Engine]) -> None:
    db, views = seeded
    report = {r["step"]: r for r in rows(db, "processing_time_percentiles")}
    with views.connect() as conn:
        spans = [
            (s - p).total_seconds() / 3600
            for p, s in conn.execute(select(orders.c.placed_at, orders.c.shipped_at))
            if s
        ]
    shipped = report["placed to shipped"]
    assert shipped["orders"] == len(spans)
    assert shipped["p50_hours"] == round(statistics.median(spans), 2)
    for step in report.values():
        assert 0 <= step["p50_hours"] <= step["p90_hours"] <= step["p99_hours"]
