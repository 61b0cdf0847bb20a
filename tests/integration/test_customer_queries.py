"""The customers view read on SQLite and PostgreSQL: the channel filter and the counts in SQL equal the same
customers picked row by row."""

from __future__ import annotations

from sqlalchemy import Engine

from projections import customer_queries
from projections.rows import table_rows
from projections.tables import customers
from tests.integration.test_overview_queries import views

__all__ = ["views"]  # the seeded views fixture, SQLite and PostgreSQL


def test_customers_of_a_channel_are_those_who_ordered_through_it(views: Engine) -> None:
    with views.connect() as conn:
        every = table_rows(conn, customers)
        assert customer_queries.count_customers(conn) == len(every)
        for channel in ("web", "pos", "nowhere"):
            expected = {row["customer_key"] for row in every if channel in row["channels"]}
            listed = customer_queries.list_customers(conn, channel=channel, limit=1000)
            assert {row["customer_key"] for row in listed} == expected
            assert customer_queries.count_customers(conn, channel=channel) == len(expected)
        some = every[0]["customer_key"]
        found = customer_queries.get_customer(conn, some)
        assert found is not None and found["recent_orders"]
        assert found["orders_count"] >= len(found["recent_orders"])
