"""The overview's rules at their edges, in SQL over a small SQLite view: which orders are stuck, where an order
falls in the time-to-ship histogram, and what today's takings count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from adapters.http.api import create_app
from adapters.http.api.sql_read_model import SqlReadModel
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from events import BackorderedLine, OrderBackordered, OrderCancelled, OrderConfirmed, OrderShipped, RefundIssued
from projections import order_list_queries as order_list
from projections import overview_queries as overview
from tests.view_seed import ViewSeeder, happened, placed

NOW = datetime(2026, 2, 2, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
KEY = "ops-key"


def backordered(order_id: str, at: datetime, eta: datetime | None) -> OrderBackordered:
    return OrderBackordered(order_id=order_id, eta=eta, lines=(BackorderedLine(sku="MUG-01", qty=1, eta=eta),))


@pytest.fixture
def views(tmp_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'views.sqlite3'}")
    shipped = {"carrier": "dhl", "tracking_number": "T1", "tracking_url": "https://t.example/1"}
    ViewSeeder(engine).add(
        [
            placed("UNPAID-20", NOW - 20 * MIN, paid=False),  # unpaid 20 min: past half the 30 min timeout
            placed("UNPAID-40", NOW - 40 * MIN, paid=False),  # the timeout did not cancel it: stuck outright
            placed("UNPAID-10", NOW - 10 * MIN, paid=False),
            # received 5 min ago; the channel's clock says 2 h: the wait for payment runs from receipt
            placed("UNPAID-MKT", NOW - 5 * MIN, placed_at=NOW - 120 * MIN, paid=False),
            placed("WAIT-NOETA", NOW - 3 * 60 * MIN),
            happened(backordered("WAIT-NOETA", NOW, None), NOW - 2 * 60 * MIN),
            placed("WAIT-NOETA-NEW", NOW - 20 * MIN),
            happened(backordered("WAIT-NOETA-NEW", NOW, None), NOW - 10 * MIN),
            placed("WAIT-LATE", NOW - 3 * 60 * MIN),
            happened(backordered("WAIT-LATE", NOW, NOW - MIN), NOW - 2 * 60 * MIN),
            placed("WAIT-SOON", NOW - 3 * 60 * MIN),
            happened(backordered("WAIT-SOON", NOW, NOW + 60 * MIN), NOW - 2 * 60 * MIN),
            placed("CONF-OLD", NOW - 26 * 60 * MIN),
            happened(OrderConfirmed(order_id="CONF-OLD"), NOW - 25 * 60 * MIN),
            placed("CONF-NEW", NOW - 2 * 60 * MIN),
            happened(OrderConfirmed(order_id="CONF-NEW"), NOW - 60 * MIN),
            # the marketplace said it was placed 30 min before the system received it; it shipped 0.1 s after
            placed("FAST", NOW - 5 * MIN, placed_at=NOW - 35 * MIN, price="20.00"),
            happened(OrderShipped(order_id="FAST", shipment_id="FAST-1", **shipped), NOW - 5 * MIN + MIN / 600),
            placed("GONE", NOW - 4 * MIN, price="30.00"),
            happened(OrderCancelled(order_id="GONE", reason="asked"), NOW - 3 * MIN),
            happened(
                RefundIssued(
                    order_id="GONE", amount=Decimal(30), currency="EUR", reason="asked", payment_id="GONE:placement"
                ),
                NOW - 3 * MIN,
            ),
        ]
    )
    return engine


def test_stuck_orders_follow_the_rules_set_beside_the_payment_timeout(views: Engine) -> None:
    rules = overview.StuckRules.beside(timedelta(minutes=30))
    with views.connect() as conn:
        stuck = overview.stuck_orders(conn, NOW, rules)
    listed = [[order.order_id for order in found.oldest] for found in stuck.lists]
    assert listed == [["UNPAID-40", "UNPAID-20"], ["CONF-OLD"], ["WAIT-LATE"], ["WAIT-NOETA"]]
    assert stuck.count == 5
    assert stuck.awaiting_payment.rule == "awaiting payment for over 15 min"


def test_a_stuck_list_counts_all_and_shows_the_most_overdue(views: Engine) -> None:
    rules = overview.StuckRules(awaiting_payment=MIN)
    with views.connect() as conn:
        stuck = overview.stuck_orders(conn, NOW, rules, shown=1)
    assert stuck.awaiting_payment.count == 4
    assert [order.order_id for order in stuck.awaiting_payment.oldest] == ["UNPAID-40"]


def test_time_to_ship_starts_when_the_system_received_the_order(views: Engine) -> None:
    with views.connect() as conn:
        histogram = {bucket.label: bucket.orders for bucket in overview.time_to_ship(conn, NOW - timedelta(days=2))}
    assert histogram["< 1 min"] == 1 and sum(histogram.values()) == 1  # not "15-60 min" from the channel's clock


def test_takings_count_captures_less_refunds_of_orders_placed_today(views: Engine) -> None:
    with views.connect() as conn:
        (eur,) = overview.takings(conn, NOW.replace(hour=0))
    # CONF-OLD was placed yesterday; the unpaid ones captured nothing; GONE was refunded in full
    paid_today = ["WAIT-NOETA", "WAIT-NOETA-NEW", "WAIT-LATE", "WAIT-SOON", "CONF-NEW"]
    assert eur.gross == Decimal("10.00") * len(paid_today) + Decimal("20.00") + Decimal("30.00")
    assert (eur.refunded, eur.net) == (Decimal(30), eur.gross - 30)
    assert eur.orders == 11  # 12 orders, one placed yesterday


def test_orders_per_minute_includes_the_minutes_without_orders(views: Engine) -> None:
    with views.connect() as conn:
        points = overview.orders_per_minute(conn, NOW - 5 * MIN, 5)
    assert [(point.minute, point.orders) for point in points] == [
        (NOW - 5 * MIN, 0),  # FAST was received then, but counts when its channel placed it, 35 min ago
        (NOW - 4 * MIN, 1),
        (NOW - 3 * MIN, 0),
        (NOW - 2 * MIN, 0),
        (NOW - MIN, 0),
    ]


def test_the_overview_page_and_its_polled_fragment_show_the_numbers(views: Engine, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_keys=KEY, payment_timeout_s=1800)
    app = create_app(settings, RecordingPublisher(), read_model=SqlReadModel(views), clock=lambda: NOW)
    with TestClient(app, follow_redirects=False) as client:
        assert client.post("/dashboard/login", data={"key": KEY}).status_code == 303
        html = client.get("/dashboard").text
        live = client.get("/dashboard/live", params={"awaiting_minutes": 1}).text
    assert 'hx-get="/dashboard/live?awaiting_minutes=15&amp;unshipped_hours=24&amp;no_eta_minutes=60"' in html
    assert 'data-status="all">12<' in html and 'data-status="backordered">4<' in html
    assert re.search(r'data-money="net" data-currency="EUR">70.00 EUR', html)
    assert "100.00 EUR gross, 30.00 EUR refunded" in html
    assert overview.GROSS_MEANS in html and overview.NET_MEANS in html
    assert 'data-card="stuck">5<' in html
    stuck = html[html.index('id="stuck"') :]
    assert all(f'data-order-id="{o}"' in stuck for o in ("UNPAID-40", "CONF-OLD", "WAIT-LATE", "WAIT-NOETA"))
    assert 'data-order-id="UNPAID-10"' not in stuck and 'data-order-id="WAIT-SOON"' not in stuck
    assert "<html" not in live and 'data-card="stuck">7<' in live  # UNPAID-10 and -MKT are stuck past 1 min
    board = live[live.index('id="board"') : live.index('id="stuck"')]
    assert 'data-order-id="GONE"' in board  # the latest orders come with the polled fragment


def test_the_orders_page_searches_filters_pages_and_exports(views: Engine, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_keys=KEY)
    app = create_app(settings, RecordingPublisher(), read_model=SqlReadModel(views), clock=lambda: NOW)
    with TestClient(app, follow_redirects=False) as client:
        assert client.post("/dashboard/login", data={"key": KEY}).status_code == 303
        searched = client.get("/dashboard/orders", params={"q": "unpaid-"}).text
        first = client.get("/dashboard/orders", params={"payment": "paid", "sort": "oldest"}).text
        exported = client.get("/dashboard/orders.csv", params={"q": "wait", "status": "backordered"})
        as_a_browser_sends = {"q": "", "status": "", "payment": "", "channel": "", "from": "", "to": "2026-02-01"}
        blank = client.get("/dashboard/orders", params=as_a_browser_sends)
        next_url = re.search(r'id="next-page" href="([^"]+)"|href="([^"]+)" id="next-page"', first)
    assert re.findall(r'data-order-id="([^"]+)"', searched) == ["UNPAID-10", "UNPAID-20", "UNPAID-40", "UNPAID-MKT"]
    assert next_url is None  # 7 paid orders: one page
    assert 'data-total="7"' in first  # GONE's payment was refunded
    assert blank.status_code == 200 and 'data-total="1"' in blank.text  # placed by Feb 1st: CONF-OLD
    assert re.findall(r'data-order-id="([^"]+)"', first)[0] == "CONF-OLD"  # oldest first
    lines = exported.text.splitlines()
    assert lines[0].startswith("order_id,status,channel") and len(lines) == 1 + 4
    assert exported.headers["content-disposition"] == 'attachment; filename="orders.csv"'


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        order_list.cursor_after(order_list.row_of({"order_id": "x\x00", "placed_at": NOW}), "newest"),
        order_list.cursor_after(order_list.row_of({"order_id": "x" * 65, "placed_at": NOW}), "newest"),
        order_list.cursor_after(order_list.row_of({"order_id": "x", "placed_at": NOW.replace(tzinfo=None)}), "newest"),
    ],
)
def test_a_cursor_the_list_did_not_write_is_refused(cursor: str) -> None:
    with pytest.raises(order_list.BadCursor):
        order_list.read_cursor(cursor)
