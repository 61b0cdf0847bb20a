"""Issue 15's must-show, in headless Chromium (Debian's `chromium`): over a view of 5,000 orders received in 40
minutes, the per-minute chart's points are COUNT(*) per minute in SQL, the time-to-ship histogram's bars add up to
the shipped orders, and the overview's cards change without a reload when new orders arrive.

The view is seeded through the orders projection's apply path (no broker) and served by the API in this process,
so the test needs only the browser; the clock stands still at the end of the seeded stretch."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, func, or_, select

from adapters.http.api import create_app
from adapters.http.api.sql_read_model import SqlReadModel
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from events import OrderPlaced
from projections.tables import orders
from tests.e2e.test_dashboard_browser import NARROW, WIDE, browser, shoot
from tests.view_seed import ViewSeeder, busy_stretch

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with the dashboard's browser tests

pytestmark = pytest.mark.slow
KEY = "ops-key-browser"
SEEDED = 5_000
ARRIVING = 300
CHANGED_WITHIN_S = 10.0


@dataclass
class Served:
    base_url: str
    views: Engine
    seeder: ViewSeeder
    now: datetime


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("overview")
    now = datetime.now(UTC).replace(microsecond=0)
    views = engine_for(f"sqlite:///{folder / 'views.sqlite3'}")
    seeder = ViewSeeder(views)
    seeder.add(busy_stretch(SEEDED, end=now, minutes=40))
    settings = Settings(data_dir=folder, api_keys=KEY)
    app = create_app(settings, RecordingPublisher(), read_model=SqlReadModel(views), clock=lambda: now)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", views, seeder, now)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        views.dispose()


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    context = browser.new_context(viewport=WIDE, base_url=served.base_url)
    try:
        opened = context.new_page()
        opened.goto("/dashboard")
        opened.fill("#password", KEY)
        opened.click("form[action='/dashboard/login'] button")
        expect(opened).to_have_url(f"{served.base_url}/dashboard")
        yield opened
    finally:
        context.close()


def placed_in(views: Engine, start: datetime, end: datetime) -> int:
    query = select(func.count()).select_from(orders).where(orders.c.placed_at >= start, orders.c.placed_at < end)
    with views.connect() as conn:
        return int(conn.execute(query).scalar_one())


def points_of(page: Page, selector: str) -> list[tuple[str, float]]:
    found = page.locator(selector).evaluate_all("nodes => nodes.map(n => [n.dataset.label, n.dataset.value])")
    return [(label, float(value)) for label, value in found]


def test_each_point_of_the_per_minute_chart_is_count_per_minute_in_sql(page: Page, served: Served) -> None:
    points = points_of(page, "#orders-per-minute svg .point")
    current = served.now.replace(second=0)
    minutes = [current - timedelta(minutes=29 - i) for i in range(30)]
    expected = [(f"{m:%H:%M}", float(placed_in(served.views, m, m + timedelta(minutes=1)))) for m in minutes]
    assert points == expected
    assert max(value for _, value in points) > 100  # busy minutes, counted in full
    shoot(page, "overview-5000-orders")
    page.set_viewport_size(NARROW)
    shoot(page, "overview-5000-orders")
    page.goto("/dashboard/orders?q=buyer%201&sort=oldest")
    shoot(page, "orders-search")


def test_the_time_to_ship_bars_add_up_to_the_shipped_orders(page: Page, served: Served) -> None:
    page.goto("/dashboard/analytics")
    bars = points_of(page, "#shipping-chart svg .point")
    since = datetime.combine(served.now.date() - timedelta(days=13), datetime.min.time(), tzinfo=UTC)
    shipped = (
        select(func.count()).select_from(orders).where(orders.c.shipped_at.is_not(None), orders.c.placed_at >= since)
    )
    with served.views.connect() as conn:
        expected = int(conn.execute(shipped).scalar_one())
    assert sum(value for _, value in bars) == expected > 1_000
    assert dict(bars)["< 1 min"] > 0  # measured from when the system received the order


def test_the_cards_change_without_a_reload_when_new_orders_arrive(page: Page, served: Served) -> None:
    page.evaluate("window.__notReloaded = true")
    total = page.locator('#live [data-status="all"]')
    before = int(total.inner_text())
    today_before = page.locator('#live [data-card="orders-today"]').inner_text()
    net_before = page.locator('#live [data-money="net"]').first.inner_text()

    arriving = busy_stretch(ARRIVING, end=served.now, minutes=1, seed=99, run="arriving")
    served.seeder.add(arriving)

    expect(total).to_have_text(str(before + ARRIVING), timeout=CHANGED_WITHIN_S * 1000)
    assert page.locator('#live [data-card="orders-today"]').inner_text() != today_before
    assert page.locator('#live [data-money="net"]').first.inner_text() != net_before
    placements = [event.data for event in arriving if isinstance(event.data, OrderPlaced)]
    newest = max(placements, key=lambda placed: (placed.placed_at, placed.order_id)).order_id
    expect(page.locator(f'#board tr[data-order-id="{newest}"]')).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True
    last = points_of(page, "#orders-per-minute svg .point")[-1]
    current = served.now.replace(second=0)
    assert last[1] == placed_in(served.views, current, current + timedelta(minutes=1))


def test_the_orders_list_searches_filters_and_pages_through_every_match(page: Page, served: Served) -> None:
    page.goto("/dashboard/orders")
    page.fill("#q", "BUYER 1")
    page.select_option("select[name=status]", "shipped")
    page.select_option("select[name=sort]", "oldest")
    page.click("#order-filters button")
    total = int(page.locator("#orders-total").get_attribute("data-total") or 0)
    seen: list[str] = []
    while True:
        seen += page.locator("table.orders tbody tr[data-order-id]").evaluate_all(
            "rows => rows.map(r => r.dataset.orderId)"
        )
        following = page.locator("#next-page")
        if following.count() == 0:
            break
        following.click()
    with served.views.connect() as conn:
        name = func.lower(orders.c.customer_name).contains("buyer 1")
        expected = conn.execute(
            select(orders.c.order_id)
            .where(orders.c.status == "shipped", or_(name, func.lower(orders.c.customer_email).contains("buyer 1")))
            .order_by(orders.c.placed_at, orders.c.order_id)
        ).scalars()
        assert seen == list(expected)
    assert len(seen) == total > 50  # more than a page
    with page.expect_download() as download:
        page.click("#orders-csv")
    lines = Path(download.value.path()).read_text().splitlines()
    assert len(lines) == 1 + total
