"""The analytics reads over a whole view of thousands of orders, on SQLite and PostgreSQL: percentiles and sums in
SQL equal the same figures folded row by row in Python."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from sqlalchemy import Engine

from projections import analytics_queries, sales_queries
from projections.analytics_queries import STAGES, percentile
from projections.rows import table_rows
from projections.tables import orders, sales_daily
from tests.integration.test_overview_queries import views

__all__ = ["views"]  # the seeded views fixture, SQLite and PostgreSQL


def test_processing_time_percentiles_are_the_nearest_ranks_of_every_order(views: Engine) -> None:
    with views.connect() as conn:
        report = analytics_queries.processing_times(conn)
        rows = table_rows(conn, orders)
    seconds: dict[tuple[object, str, str], list[float]] = defaultdict(list)
    for row in rows:
        for stage, (start, end) in STAGES.items():
            if row[start] is not None and row[end] is not None:
                key = (row["placed_at"].date(), row["channel"], stage)
                seconds[key].append((row[end] - row[start]).total_seconds())
    assert report, "the seeded view has processing times"
    for entry in report:
        for stage in STAGES:
            values = sorted(seconds.get((entry["day"], entry["channel"], stage), []))
            expected = {
                "count": len(values),
                **{p: percentile(values, int(p[1:]) / 100) for p in ("p50", "p95", "p99")},
            }
            assert entry[stage] == expected, (entry["day"], entry["channel"], stage)  # type: ignore[literal-required]


def test_the_sales_summary_sums_every_sales_row(views: Engine) -> None:
    with views.connect() as conn:
        summary = sales_queries.sales_summary(conn, None, None)
        rows = table_rows(conn, sales_daily)
        placed = len(table_rows(conn, orders))
    units: Counter[str] = Counter()
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        units[row["channel"]] += row["units"]
        revenue[row["currency"]] += Decimal(row["revenue"])
    assert summary["units"] == sum(units.values())
    assert {c["channel"]: c["units"] for c in summary["by_channel"]} == dict(units)
    assert {a["currency"]: a["amount"] for a in summary["revenue"]} == dict(revenue)
    assert summary["orders"] == placed
    top = [entry["units"] for entry in summary["top_skus"]]
    assert top == sorted(top, reverse=True) and len(top) == min(10, len({row["sku"] for row in rows}))
