"""Issue 15's readability, in headless Chromium at 1440x900 and 390x844, over views seeded without a broker: the
orders and inventory pages do not scroll sideways on a phone (their tables become cards), chart labels are at
least 11 px at both sizes, the timeline reads in words and in the viewer's local time with each refusal's reason,
and a receipt for an unknown SKU is refused in the page until "This is a new SKU" is ticked."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect

from adapters.http.api import create_app
from adapters.http.api.sql_read_model import SqlReadModel
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from tests.e2e.test_dashboard_browser import NARROW, WIDE, browser, shoot
from tests.e2e.test_overview_browser import free_port
from tests.unit.test_api_order_ledger import split_order_story
from tests.unit.test_cli_orders_show import build
from tests.unit.test_dashboard_ux import seed_inventory, stock_events
from tests.view_seed import ViewSeeder, busy_stretch

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with the dashboard's browser tests

pytestmark = pytest.mark.slow
KEY = "ops-key-ux"
VIEWER_ZONE = "Europe/Berlin"


@dataclass
class Served:
    base_url: str
    publisher: RecordingPublisher


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("ux")
    now = datetime.now(UTC).replace(microsecond=0)
    build(folder / "views.sqlite3", split_order_story())  # o-api: a split order with a refused return
    views = engine_for(f"sqlite:///{folder / 'views.sqlite3'}")
    ViewSeeder(views).add(busy_stretch(400, end=now, minutes=30))
    seed_inventory(views, stock_events())
    publisher = RecordingPublisher()
    app = create_app(
        Settings(data_dir=folder, api_keys=KEY), publisher, read_model=SqlReadModel(views), clock=lambda: now
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{server.config.port}", publisher)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        views.dispose()


def logged_in(browser: Browser, served: Served, viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport, base_url=served.base_url, timezone_id=VIEWER_ZONE, locale="en-GB")
    page = context.new_page()
    page.goto("/dashboard/inventory")
    page.fill("#password", KEY)
    page.click("form[action='/dashboard/login'] button")
    expect(page).to_have_url(f"{served.base_url}/dashboard/inventory")
    return page


@pytest.fixture(params=[WIDE, NARROW], ids=["1440x900", "390x844"])
def page(request: pytest.FixtureRequest, browser: Browser, served: Served) -> Iterator[Page]:
    opened = logged_in(browser, served, request.param)
    try:
        yield opened
    finally:
        opened.context.close()


def sideways_overflow(page: Page) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"))


def chart_label_sizes(page: Page) -> list[float]:
    sizes = page.locator("figure.chart svg text").evaluate_all(
        "nodes => nodes.map(n => parseFloat(getComputedStyle(n).fontSize) * n.getScreenCTM().a)"
    )
    return [float(size) for size in sizes]


def test_orders_and_inventory_never_scroll_sideways_and_keep_their_totals(page: Page) -> None:
    narrow = (page.viewport_size or WIDE)["width"] < 720
    for name, path in {"ux-orders": "/dashboard/orders", "ux-inventory": "/dashboard/inventory"}.items():
        page.goto(path)
        assert sideways_overflow(page) <= 0, f"{path} scrolls sideways at {page.viewport_size}"
        shoot(page, name)
    page.goto("/dashboard/orders")
    first_total = page.locator("table.orders tbody tr").first.locator("td[data-label='Total']")
    expect(first_total).to_be_visible()
    expect(first_total).to_contain_text("EUR")
    if narrow:  # a card: the cell's heading is written before it
        label = first_total.evaluate("n => getComputedStyle(n, '::before').content")
        assert label == '"Total"'


def test_chart_labels_are_at_least_11_px(page: Page) -> None:
    for path in ("/dashboard", "/dashboard/analytics"):
        page.goto(path)
        sizes = chart_label_sizes(page)
        assert sizes and min(sizes) >= 11, f"{path}: chart labels of {min(sizes):.1f} px at {page.viewport_size}"
    shoot(page, "ux-analytics")


def test_the_timeline_reads_in_words_and_local_time_with_the_refusal_reason(page: Page) -> None:
    page.goto("/dashboard/orders/o-api")
    placed = page.locator("#timeline li[data-type='oms.order.placed']")
    expect(placed.locator(".label")).to_have_text("Order placed")
    moment = placed.locator("time")
    expect(moment).to_have_attribute("data-local", "")
    utc = datetime.fromisoformat(moment.get_attribute("datetime") or "")
    local = utc.astimezone(ZoneInfo(VIEWER_ZONE))
    assert f"{local:%H:%M:%S}" in moment.inner_text(), "shown in the viewer's time zone"
    assert (moment.get_attribute("title") or "").endswith(f"{utc:%H:%M:%S} UTC"), "UTC in the title"
    refused = page.locator("#timeline li.refused")
    expect(refused.locator(".label")).to_have_text("Return requested")
    expect(refused.locator(".refusal")).to_contain_text("cannot return 9 x TEA-2")
    assert sideways_overflow(page) <= 0
    refused.scroll_into_view_if_needed()
    shoot(page, "ux-timeline")


def test_an_unknown_sku_receipt_is_refused_in_the_page_until_asked_to_create_it(page: Page, served: Served) -> None:
    before = len(served.publisher.of_type("oms.stock.received"))
    page.goto("/dashboard/inventory")
    page.fill("#sku", "MUG-010")  # a typo of MUG-01
    page.fill("#qty", "5")
    page.click("#receive-form button")
    expect(page.locator("#unknown-sku")).to_contain_text("No stock row has the SKU MUG-010")
    expect(page.locator("#sku")).to_have_value("MUG-010")
    assert len(served.publisher.of_type("oms.stock.received")) == before, "nothing was published"
    shoot(page, "ux-unknown-sku")
    page.fill("#qty", "5")
    page.check("#new_sku")
    page.click("#receive-form button")
    expect(page.locator(".notice")).to_contain_text("Stock receipt recorded")
    assert served.publisher.of_type("oms.stock.received")[-1].subject == "MUG-010"


def test_the_stock_table_searches_and_sorts(page: Page) -> None:
    page.goto("/dashboard/inventory")
    page.fill("#q", "tee")
    page.click("#stock-search button")
    expect(page.locator("tr[data-sku]")).to_have_count(2)
    page.click("a[data-sort='on_hand']")
    page.click("a[data-sort='on_hand']")  # again: the other way
    assert page.locator("tr[data-sku]").evaluate_all("rows => rows.map(r => r.dataset.sku)") == [
        "TEE-WHT-S",
        "TEE-BLK-M",
    ]
    assert "q=tee" in page.url and "order=desc" in page.url


def test_times_stay_local_after_the_overview_refreshes_itself(page: Page) -> None:
    page.goto("/dashboard")
    page.wait_for_function("document.querySelectorAll('#live time').length > 0")
    after_the_next_swap = "() => setTimeout(done, 50)"
    page.evaluate(f"new Promise(done => document.body.addEventListener('htmx:afterSettle', {after_the_next_swap}))")
    unconverted = page.locator("#live time:not([data-local])").count()
    assert unconverted == 0 and page.locator("#live time[data-local]").count() > 0
