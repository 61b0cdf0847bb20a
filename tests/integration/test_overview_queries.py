"""The overview's aggregates over a whole view of thousands of orders, on SQLite and PostgreSQL: each equals the
same number counted row by row, none stops at a page of rows."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from adapters.sql.engines import drop_schema, engine_for
from projections import analytics_queries
from projections import overview_queries as overview
from projections.money import amount
from projections.rows import table_rows
from projections.tables import order_timeline, orders
from tests.integration.test_projections_contract import _postgres_reachable
from tests.view_seed import ViewSeeder, busy_stretch

pytestmark = pytest.mark.integration
END = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ORDERS = 2_500  # more than a page (1,000) of any list read


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], scope="module")
def views(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = engine_for(f"sqlite:///{tmp_path_factory.mktemp('views') / 'views.sqlite3'}")
        ViewSeeder(engine).add(busy_stretch(ORDERS, end=END))
        yield engine
        engine.dispose()
        return
    if not _postgres_reachable(postgres_url):
        pytest.skip("PostgreSQL is not reachable")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = engine_for(postgres_url, schema=schema)
    ViewSeeder(engine).add(busy_stretch(ORDERS, end=END))
    yield engine
    engine.dispose()
    drop_schema(postgres_url, schema)


def every_order(views: Engine) -> list[dict[str, object]]:
    with views.connect() as conn:
        return table_rows(conn, orders)


def test_each_minute_counts_every_order_placed_in_it(views: Engine) -> None:
    first = END - timedelta(minutes=40)
    with views.connect() as conn:
        per_minute = overview.orders_per_minute(conn, first, 40)
        for point in per_minute:
            in_minute = (orders.c.placed_at >= point.minute, orders.c.placed_at < point.minute + timedelta(minutes=1))
            assert point.orders == conn.execute(select(func.count()).where(*in_minute)).scalar_one(), point
    assert [point.minute for point in per_minute] == [first + timedelta(minutes=i) for i in range(40)]
    assert max(point.orders for point in per_minute) > 100  # busy minutes, not a page's leftovers


def test_the_status_counts_add_up_to_every_order(views: Engine) -> None:
    with views.connect() as conn:
        counts = overview.status_counts(conn)
    assert {c.status: c.orders for c in counts if c.orders} == Counter(row["status"] for row in every_order(views))
    assert sum(c.orders for c in counts) == ORDERS


def test_time_to_ship_counts_every_shipped_order_once_from_when_it_was_received(views: Engine) -> None:
    rows = every_order(views)
    with views.connect() as conn:
        histogram = overview.time_to_ship(conn, END - timedelta(days=1))
        received = {row["event_id"]: row["time"] for row in table_rows(conn, order_timeline)}
    shipped = [row for row in rows if row["shipped_at"] is not None]
    assert sum(bucket.orders for bucket in histogram) == len(shipped) > 1_000
    expected = Counter(_label(row["shipped_at"] - received[row["placed_event_id"]]) for row in shipped)
    assert {b.label: b.orders for b in histogram if b.orders} == expected
    # the marketplace's clock says hours earlier; the order still shipped within a minute of arriving
    late_clock = [
        r for r in shipped if r["channel"] == "marketplace" and r["shipped_at"] - r["placed_at"] > timedelta(hours=1)
    ]
    assert any(r["shipped_at"] - received[r["placed_event_id"]] < timedelta(minutes=1) for r in late_clock)
    assert expected["< 1 min"] > 0 and "1-4 h" not in expected


def _label(took: timedelta) -> str:
    return next((label for label, limit in overview.DURATION_BUCKETS if took < limit), overview.LAST_BUCKET)


def test_takings_are_captured_less_refunded_exactly(views: Engine) -> None:
    rows = every_order(views)
    with views.connect() as conn:
        (eur,) = overview.takings(conn, END - timedelta(days=1))
    gross = sum((amount(row["captured_amount"]) for row in rows), Decimal(0))
    refunded = sum((amount(row["refunded_amount"]) for row in rows), Decimal(0))
    assert (eur.orders, eur.gross, eur.refunded, eur.net) == (ORDERS, gross, refunded, gross - refunded)
    unpaid = [row for row in rows if row["status"] == "awaiting_payment"]
    assert unpaid and all(amount(row["captured_amount"]) == 0 for row in unpaid)
    cancelled = [row for row in rows if row["status"] == "cancelled"]
    assert cancelled and all(amount(r["captured_amount"]) == amount(r["refunded_amount"]) > 0 for r in cancelled)


def test_stuck_lists_count_every_order_and_show_the_most_overdue_first(views: Engine) -> None:
    now = END + timedelta(hours=2)
    rules = overview.StuckRules.beside(payment_timeout=timedelta(minutes=30))
    assert rules.awaiting_payment == timedelta(minutes=15)
    rows = every_order(views)
    with views.connect() as conn:
        stuck = overview.stuck_orders(conn, now, rules, shown=10)
        later = overview.stuck_orders(conn, now + timedelta(days=3), rules, shown=10)
    with views.connect() as conn:
        received = {row["event_id"]: row["time"] for row in table_rows(conn, order_timeline)}
    waiting = sorted(
        (r for r in rows if r["status"] == "awaiting_payment"),
        key=lambda r: (received[r["placed_event_id"]], r["order_id"]),
    )
    assert stuck.awaiting_payment.count == len(waiting) > 10
    assert [o.order_id for o in stuck.awaiting_payment.oldest] == [r["order_id"] for r in waiting[:10]]
    no_eta = [r for r in rows if r["status"] == "backordered" and r["eta"] is None]
    assert stuck.backordered_without_eta.count == len(no_eta) > 0  # no stock on its way: ops must order some
    assert stuck.backordered_past_eta.count == 0  # their ETA is still ahead
    assert later.backordered_past_eta.count == sum(1 for r in rows if r["status"] == "backordered" and r["eta"])
    assert stuck.count == sum(found.count for found in stuck.lists)


def test_the_rates_are_counted_in_sql_as_row_by_row(views: Engine) -> None:
    rows = every_order(views)
    units = sum(line["qty"] for row in rows for line in row["lines"])
    waited = sum(row["backordered_units"] or 0 for row in rows)
    with views.connect() as conn:
        rates = analytics_queries.rates(conn, day_from=(END - timedelta(days=1)).date())
    assert rates == {
        "orders": len(rows),
        "backorder_rate": round(sum(r["backordered_at"] is not None for r in rows) / len(rows), 6),
        "cancellation_rate": round(sum(r["status"] == "cancelled" for r in rows) / len(rows), 6),
        "fill_rate": round((units - waited) / units, 6),
    }
    assert 0 < rates["fill_rate"] < 1
