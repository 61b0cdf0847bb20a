"""The orders list over a view of thousands of orders, on SQLite and PostgreSQL: keyset pages walk every matching
order once, filters and the partial search match what a row-by-row check matches, the API pages by its `Link`
header and exports every order as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from adapters.http.api import create_app
from adapters.http.api.sql_read_model import SqlReadModel
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from projections import order_list_queries as order_list
from projections.order_list_queries import OrderQuery
from projections.rows import table_rows
from projections.tables import orders
from tests.integration.test_overview_queries import END, ORDERS, views
from tests.view_seed import ViewSeeder, placed

__all__ = ["views"]  # the seeded view, on both backends

pytestmark = pytest.mark.integration
KEY = "ops-key"
OPS = {"Authorization": f"Bearer {KEY}"}


def every_row(views: Engine) -> list[dict[str, Any]]:
    with views.connect() as conn:
        return table_rows(conn, orders)


def walk(views: Engine, query: OrderQuery, limit: int) -> list[str]:
    seen: list[str] = []
    after = None
    with views.connect() as conn:
        while True:
            page = order_list.order_page(conn, query, limit, after)
            seen += [row.order_id for row in page.rows]
            if page.next_cursor is None:
                return seen
            after = page.next_cursor


@pytest.mark.parametrize("sort", order_list.SORTS)
def test_keyset_pages_walk_every_order_once_in_order(views: Engine, sort: order_list.Sort) -> None:
    rows = every_row(views)
    key = "updated_at" if sort == "updated" else "placed_at"
    expected = sorted(rows, key=lambda r: (r[key], r["order_id"]), reverse=sort != "oldest")
    assert walk(views, OrderQuery(sort=sort), 333) == [r["order_id"] for r in expected]
    assert len(expected) == ORDERS


def test_filters_and_the_partial_search_match_what_each_row_says(views: Engine) -> None:
    rows = every_row(views)
    since, until = END - timedelta(minutes=30), END - timedelta(minutes=10)
    query = OrderQuery(status="shipped", channel="web", payment_status="paid", placed_from=since, placed_to=until)
    expected = {
        r["order_id"]
        for r in rows
        if (r["status"], r["channel"], r["payment_status"]) == ("shipped", "web", "paid")
        and since <= r["placed_at"] < until
    }
    assert set(walk(views, query, 100)) == expected and expected

    for term in ("BUYER 12", "buyer12", "busy-0001", "#BUSY-00004"):
        lowered = term.lower()
        searched = ("order_id", "external_ref", "customer_email", "customer_name")
        matches = {r["order_id"] for r in rows if any(lowered in (r[c] or "").lower() for c in searched)}
        assert set(walk(views, OrderQuery(search=term), 500)) == matches and matches, term
    assert walk(views, OrderQuery(search="%"), 10) == []  # a wildcard is a character like any other


def test_an_order_arriving_while_paging_neither_repeats_nor_skips_a_row(views: Engine, tmp_path: Path) -> None:
    with views.connect() as conn:
        first = order_list.order_page(conn, OrderQuery(), 50)
    ViewSeeder(views).add([placed("ARRIVED-LATE", END + timedelta(seconds=1))])  # newest of all: page 1's
    assert first.next_cursor is not None
    with views.connect() as conn:
        second = order_list.order_page(conn, OrderQuery(), 50, first.next_cursor)
    everything = walk(views, OrderQuery(), 1000)
    assert [row.order_id for row in first.rows + second.rows] == everything[1:101]
    assert second.total == first.total + 1


@pytest.fixture
def client(views: Engine, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEY), RecordingPublisher(), read_model=SqlReadModel(views))
    with TestClient(app) as test_client:
        yield test_client


def test_the_api_pages_by_its_link_header_and_exports_every_order(client: TestClient, views: Engine) -> None:
    params = {"channel": "pos", "sort": "oldest", "limit": 200}
    seen: list[str] = []
    response = client.get("/api/v1/orders", params=params, headers=OPS)
    while True:
        assert response.status_code == 200, response.text
        seen += [item["order_id"] for item in response.json()["items"]]
        if "next" not in response.links:
            break
        assert response.headers["X-Next-Cursor"] in response.links["next"]["url"]
        response = client.get(response.links["next"]["url"], headers=OPS)
    total = response.json()["total"]
    assert len(seen) == len(set(seen)) == total > 200

    exported = client.get("/api/v1/orders/export.csv", params={"channel": "pos", "sort": "oldest"}, headers=OPS)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["order_id"] for row in table] == seen
    assert list(table[0]) == list(order_list.COLUMNS)


def test_the_api_refuses_a_cursor_it_did_not_write(client: TestClient) -> None:
    assert client.get("/api/v1/orders", params={"after": "not-a-cursor"}, headers=OPS).status_code == 422
    first = client.get("/api/v1/orders", params={"limit": 5}, headers=OPS)
    cursor = first.headers["X-Next-Cursor"]
    other_sort = client.get("/api/v1/orders", params={"after": cursor, "sort": "oldest"}, headers=OPS)
    assert other_sort.status_code == 422
    assert client.get("/api/v1/orders", params={"offset": 5, "q": "busy"}, headers=OPS).status_code == 422
    assert client.get("/api/v1/orders", params={"offset": 5}, headers=OPS).json()["offset"] == 5
