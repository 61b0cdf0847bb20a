"""The exceptions desk in headless Chromium, on the running system (worker, projections, API).

Issue 15's must-show: garbage bytes and a refused return appear on the exceptions page within seconds, without a
reload; a corrected retry from the item's page is processed and the desk shows it resolved.
"""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from events import encode, topics
from tests import builders as b
from tests.e2e import test_dashboard_browser as dashboard
from tests.e2e.system import System, run_in_thread
from tests.e2e.test_api_e2e import unique_tag
from tests.e2e.test_dashboard_browser import eventually, fresh_order, place_shopify_order, shoot
from tests.integration.harness import produce_raw

pytestmark = pytest.mark.slow
browser, http, page = dashboard.browser, dashboard.http, dashboard.page  # the dashboard tests' fixtures
ON_DESK_WITHIN_S = 20.0


def test_garbage_and_a_refused_return_appear_on_the_desk_and_a_corrected_retry_resolves(
    page: Page, http: httpx.Client, system: System
) -> None:
    page.goto("/dashboard/deadletters")
    page.evaluate("window.__notReloaded = true")
    junk_key = unique_tag("junk")
    order_id = place_shopify_order(http, system, fresh_order("desk"))
    started = time.monotonic()
    run_in_thread(produce_raw(system.bootstrap, system.topic(topics.ORDERS), junk_key.encode(), b"\x00{garbage"))
    answer = http.post(
        f"/api/v1/orders/{order_id}/returns", json={"lines": [{"sku": "ANY", "qty": 1}]}, headers=system.ops_headers
    )
    assert answer.status_code == 202, answer.text

    junk_row = page.locator("#desk-items tr", has_text=junk_key)
    refused_row = page.locator("#desk-items tr", has_text=order_id).filter(has_text="not_returnable")
    expect(junk_row).to_be_visible(timeout=ON_DESK_WITHIN_S * 1000)
    expect(refused_row).to_be_visible(timeout=ON_DESK_WITHIN_S * 1000)
    took = time.monotonic() - started
    assert page.evaluate("window.__notReloaded") is True, "the page was reloaded"
    print(f"both on the desk {took:.1f} s after they were sent")
    expect(junk_row).to_contain_text("malformed_json")
    shoot(page, "desk")

    junk_row.get_by_role("link").click()
    expect(page.locator("#original")).to_contain_text("{garbage")
    corrected = b.order_placed(lines={b.unique_sku("DESK"): 1})
    page.fill("#event", encode(corrected).decode())
    page.click("#retry-form button")
    expect(page.locator(".notice")).to_contain_text("Retry published")

    def resolved() -> bool:
        page.reload()
        return page.locator("#item-status").inner_text() == "resolved"

    eventually(resolved, system)
    expect(page.locator("#retries")).to_contain_text("oms.order.placed")
    shoot(page, "desk-item")
