"""Issue 15's readability: the timeline in words and local time, refusals with their reason; an unknown SKU's
receipt refused unless asked to create it (the dashboard always, the API with `known_sku_only`); the stock table
searched and sorted in SQL; chart labels that no scaling shrinks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from adapters.http.api import create_app
from adapters.http.api.sql_read_model import SqlReadModel
from adapters.http.dashboard import charts
from adapters.http.dashboard.render import in_words, when
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from events import EventData, StockReceived, StockReorderPolicySet, encode
from events.envelope import new_event
from projections.archive import Record
from projections.inventory_search import StockQuery, find_stock
from projections.projector import INVENTORY, ORDERS, apply_records, prepare_views
from tests.unit.test_api_order_ledger import split_order_story
from tests.unit.test_cli_orders_show import build, with_a_late_payment
from tests.unit.test_dashboard_pages import KEY, csrf_of, log_in
from tests.unit.test_dashboard_pages import client as client
from tests.unit.test_dashboard_pages import publisher as publisher

OPS = {"Authorization": f"Bearer {KEY}"}
AT = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


def stock_events() -> list[EventData]:
    """Five skus: MUG-01 10 on hand, TEE-BLK-M 3 (reorder point 5: low), TEE-WHT-S 7, CAP-RED 1, SOCK-3P 25."""
    received = {"MUG-01": 10, "TEE-BLK-M": 3, "TEE-WHT-S": 7, "CAP-RED": 1, "SOCK-3P": 25}
    return [
        *(StockReceived(sku=sku, qty=qty) for sku, qty in received.items()),
        StockReorderPolicySet(sku="TEE-BLK-M", reorder_point=5, reorder_qty=20),
    ]


def seed_inventory(engine: Engine, events: Iterable[EventData]) -> None:
    records = [
        Record(data.topic, 0, offset, data.partition_key(), encode(new_event(data, source="tests", time=AT)))
        for offset, data in enumerate(events)
    ]
    with engine.begin() as conn:
        prepare_views(conn, ORDERS)
        prepare_views(conn, INVENTORY)
        apply_records(conn, INVENTORY, records)


@pytest.fixture
def views(tmp_path: Path) -> Iterator[Engine]:
    engine = engine_for(f"sqlite:///{tmp_path / 'views.sqlite3'}")
    seed_inventory(engine, stock_events())
    yield engine
    engine.dispose()


@pytest.fixture
def sql_client(tmp_path: Path, views: Engine) -> Iterator[tuple[TestClient, RecordingPublisher]]:
    publisher = RecordingPublisher()
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEY), publisher, read_model=SqlReadModel(views))
    with TestClient(app, follow_redirects=False) as test_client:
        log_in(test_client)
        yield test_client, publisher


def skus_shown(html: str) -> list[str]:
    return re.findall(r'<tr data-sku="([^"]+)"', html)


# --- receipts -------------------------------------------------------------------------------------------------


def test_a_receipt_for_an_unknown_sku_is_refused_and_the_form_says_why(
    client: TestClient,
    publisher: RecordingPublisher,
) -> None:
    log_in(client)
    csrf = csrf_of(client.get("/dashboard/inventory").text)
    refused = client.post("/dashboard/inventory/receipts", data={"sku": "MUG-10", "qty": "5", "csrf": csrf})
    assert refused.headers["location"] == "/dashboard/inventory?sku=MUG-10&notice=unknown-sku#receive-form"
    assert publisher.published == []
    page = client.get(refused.headers["location"]).text
    assert 'id="unknown-sku"' in page and "No stock row has the SKU" in page
    assert 'id="sku" name="sku"' in page and 'value="MUG-10"' in page, "the typed SKU is kept to correct it"


def test_a_new_sku_is_received_when_asked_to_create_it_and_a_known_one_without(
    client: TestClient,
    publisher: RecordingPublisher,
) -> None:
    log_in(client)
    csrf = csrf_of(client.get("/dashboard/inventory").text)
    new = {"sku": "MUG-10", "qty": "5", "csrf": csrf, "nonce": "n-new", "new_sku": "true"}
    assert client.post("/dashboard/inventory/receipts", data=new).headers["location"].endswith("notice=stock-received")
    known = {"sku": "MUG-01", "qty": "2", "csrf": csrf, "nonce": "n-known"}
    assert client.post("/dashboard/inventory/receipts", data=known).headers["location"].endswith("=stock-received")
    assert [(e.subject, e.data.qty) for e in publisher.of_type("oms.stock.received")] == [("MUG-10", 5), ("MUG-01", 2)]


def test_the_api_refuses_an_unknown_sku_only_when_asked_to(
    client: TestClient,
    publisher: RecordingPublisher,
) -> None:
    strict = client.post("/api/v1/inventory/MUG-10/receipts", json={"qty": 5, "known_sku_only": True}, headers=OPS)
    assert strict.status_code == 422 and "No stock row has the SKU MUG-10" in strict.json()["detail"]
    assert publisher.published == []
    known = client.post("/api/v1/inventory/MUG-01/receipts", json={"qty": 5, "known_sku_only": True}, headers=OPS)
    assert known.status_code == 202
    as_before = client.post("/api/v1/inventory/MUG-10/receipts", json={"qty": 5}, headers=OPS)
    assert as_before.status_code == 202, "without the flag, a new SKU is received as it always was"
    assert [e.subject for e in publisher.of_type("oms.stock.received")] == ["MUG-01", "MUG-10"]


# --- stock search and sort ------------------------------------------------------------------------------------


def test_stock_is_searched_by_part_of_a_sku_in_any_case(views: Engine) -> None:
    with views.connect() as conn:
        found = find_stock(conn, StockQuery(search="tee-"), limit=10)
        assert ([row["sku"] for row in found.rows], found.total) == (["TEE-BLK-M", "TEE-WHT-S"], 2)
        assert find_stock(conn, StockQuery(search="%"), limit=10).total == 0, "a wildcard is a character"
        assert [r["sku"] for r in find_stock(conn, StockQuery(search="tee", low_only=True), 10).rows] == ["TEE-BLK-M"]


def test_stock_sorts_by_a_column_either_way_ties_by_sku(views: Engine) -> None:
    with views.connect() as conn:
        by_on_hand = find_stock(conn, StockQuery(sort="on_hand", descending=True), limit=10).rows
        assert [row["sku"] for row in by_on_hand] == ["SOCK-3P", "MUG-01", "TEE-WHT-S", "TEE-BLK-M", "CAP-RED"]
        first_two = find_stock(conn, StockQuery(sort="available"), limit=2)
        assert ([row["sku"] for row in first_two.rows], first_two.total) == (["CAP-RED", "TEE-BLK-M"], 5)
        with_point = find_stock(conn, StockQuery(sort="reorder_point", descending=True), limit=10).rows
        assert with_point[0]["sku"] == "TEE-BLK-M", "skus without a reorder point come last"


def test_the_inventory_page_searches_and_sorts_through_query_parameters(
    sql_client: tuple[TestClient, RecordingPublisher],
) -> None:
    client, _ = sql_client
    html = client.get("/dashboard/inventory", params={"sort": "on_hand", "order": "desc"}).text
    assert skus_shown(html) == ["SOCK-3P", "MUG-01", "TEE-WHT-S", "TEE-BLK-M", "CAP-RED"]
    assert 'aria-sort="descending"><a href="/dashboard/inventory?sort=on_hand&amp;order=asc"' in html
    searched = client.get("/dashboard/inventory", params={"q": "tee", "sort": "sku"}).text
    assert skus_shown(searched) == ["TEE-BLK-M", "TEE-WHT-S"]
    assert 'data-total="2"' in searched
    assert 'href="/dashboard/inventory?q=tee&amp;sort=available&amp;order=asc"' in searched, "sorting keeps the search"
    assert client.get("/dashboard/inventory", params={"sort": "nonsense"}).status_code == 422


def test_the_in_memory_read_model_searches_and_sorts_the_same(client: TestClient) -> None:
    log_in(client)
    html = client.get("/dashboard/inventory", params={"sort": "available", "order": "desc"}).text
    assert skus_shown(html) == ["MUG-01", "TEE-BLK-M"]
    assert skus_shown(client.get("/dashboard/inventory", params={"q": "tee"}).text) == ["TEE-BLK-M"]


# --- timeline and times ---------------------------------------------------------------------------------------


def test_times_are_time_elements_in_utc_that_the_browser_shows_locally() -> None:
    moment = datetime(2026, 2, 2, 9, 5, 7, tzinfo=UTC)
    assert str(when(moment)) == (
        '<time datetime="2026-02-02T09:05:07+00:00" title="2026-02-02 09:05:07 UTC">2026-02-02 09:05:07 UTC</time>'
    )
    assert when(None) == "-"


def test_a_summary_naming_an_event_type_names_it_in_words() -> None:
    refusal = "refused oms.return.requested (not_returnable): cannot return 9 x TEA-2"
    assert in_words(refusal) == "refused “return requested” (not_returnable): cannot return 9 x TEA-2"
    assert in_words("see oms.order.teleported") == "see oms.order.teleported", "an unknown type is left as it is"


def test_the_timeline_reads_in_words_with_local_times_and_the_refusal_reason(tmp_path: Path) -> None:
    build(tmp_path / "views.sqlite3", with_a_late_payment(split_order_story()))
    engine = engine_for(f"sqlite:///{tmp_path / 'views.sqlite3'}")
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEY), RecordingPublisher(), read_model=SqlReadModel(engine))
    with TestClient(app, follow_redirects=False) as client:
        log_in(client)
        html = client.get("/dashboard/orders/o-api").text
    engine.dispose()
    timeline = html[html.index('id="timeline"') :]
    assert '<strong class="label" title="oms.order.placed">Order placed</strong>' in timeline
    refused = re.search(r'<li data-type="oms.return.requested" class="refused".*?</li>', timeline, re.S)
    assert refused and "Return requested" in refused.group(0) and "cannot return 9 x TEA-2" in refused.group(0)
    assert re.search(r'<time datetime="[^"]+\+00:00" title="[^"]+ UTC">', timeline)
    assert not re.search(r">[^<]*oms\.[a-z]+\.", timeline), "no raw type shows as text"
    assert "local-time.js" in html


# --- charts ---------------------------------------------------------------------------------------------------


def test_chart_labels_are_at_least_11_px_and_never_scaled(client: TestClient) -> None:
    assert charts.FONT_PX >= 11
    log_in(client)
    html = client.get("/dashboard/analytics").text
    assert "viewBox" not in html, "a viewBox would scale the labels with the card"
    sizes = {int(size) for size in re.findall(r'<text class="tick[^"]*"[^>]* font-size="(\d+)"', html)}
    assert sizes == {charts.FONT_PX}


def test_many_x_labels_take_two_rows() -> None:
    chart = charts.bar_chart([f"{n}-{n + 5} min" for n in range(8)], {"orders": [1] * 8})
    assert len({tick.y for tick in chart.x_ticks}) == 2
    assert all(tick.y <= chart.height for tick in chart.x_ticks)
