"""The dashboard in process: nothing without a session, a session from an ops key, forms need the CSRF token,
and each ops form publishes the event its API endpoint does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.http.api import create_app
from adapters.http.api.memory import InMemoryReadModel
from adapters.http.api.ratelimit import TokenBucketLimiter
from adapters.http.dashboard.auth import SESSION_COOKIE
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings

KEY = "ops-key-1"
NOW = datetime(2026, 2, 2, 12, 0, tzinfo=UTC)
PAGES = ["/dashboard", "/dashboard/orders", "/dashboard/orders/SHOP-1", "/dashboard/inventory", "/dashboard/feed"]
PAGES += ["/dashboard/analytics", "/dashboard/board"]


def order(order_id: str, status: str, placed: datetime, **extra: object) -> dict[str, object]:
    return {
        "order_id": order_id,
        "status": status,
        "channel": "shopify",
        "external_ref": f"#{order_id}",
        "customer_email": "mara@example.com",
        "total_amount": "89.70",
        "currency": "EUR",
        "placed_at": placed,
        "lines": [{"sku": "TEE-BLK-M", "qty": 2, "unit_price": "24.90"}],
        "timeline": [{"event_id": f"e-{order_id}", "type": "oms.order.placed", "time": placed, "summary": "placed"}],
        **extra,
    }


def read_model() -> InMemoryReadModel:
    return InMemoryReadModel(
        orders={
            "SHOP-1": order(
                "SHOP-1", "shipment_requested", NOW - timedelta(minutes=3), confirmed_at=NOW - timedelta(hours=30)
            ),
            "SHOP-2": order("SHOP-2", "awaiting_payment", NOW - timedelta(hours=2)),
            "SHOP-3": order("SHOP-3", "shipped", NOW - timedelta(minutes=1), shipped_at=NOW),
        },
        inventory={
            "TEE-BLK-M": {"sku": "TEE-BLK-M", "on_hand": 3, "reserved": 2, "available": 1, "is_low": True},
            "MUG-01": {"sku": "MUG-01", "on_hand": 10, "reserved": 0, "available": 10, "backordered_qty": 2},
        },
        analytics_row={"orders": 3, "units": 6, "revenue": [{"currency": "EUR", "amount": "269.10"}]},
    )


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def client(tmp_path: Path, publisher: RecordingPublisher) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, api_keys=f"other-key,{KEY}")
    app = create_app(settings, publisher, read_model=read_model(), clock=lambda: NOW)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def log_in(client: TestClient, key: str = KEY) -> None:
    response = client.post("/dashboard/login", data={"key": key, "next": "/dashboard/inventory"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dashboard/inventory"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no csrf field"
    return found.group(1)


@pytest.mark.parametrize("url", PAGES)
def test_every_page_redirects_to_login_without_a_session(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/dashboard/login?next=")


def test_a_polled_fragment_without_a_session_tells_htmx_to_log_in(client: TestClient) -> None:
    response = client.get("/dashboard/board", headers={"HX-Request": "true"})
    assert (response.status_code, response.headers["HX-Redirect"]) == (401, "/dashboard/login")


def test_a_wrong_key_is_refused_and_sets_no_cookie(client: TestClient) -> None:
    response = client.post("/dashboard/login", data={"key": "wrong"})
    assert response.status_code == 401
    assert "not valid" in response.text
    assert SESSION_COOKIE not in response.cookies


def test_guessing_keys_is_throttled_per_client(tmp_path: Path, publisher: RecordingPublisher) -> None:
    settings = Settings(data_dir=tmp_path, api_keys=KEY)
    app = create_app(settings, publisher, read_model=read_model(), login_limiter=TokenBucketLimiter(3, 0.01))
    with TestClient(app, follow_redirects=False) as client:
        assert [client.post("/dashboard/login", data={"key": f"guess-{n}"}).status_code for n in range(3)] == [401] * 3
        throttled = client.post("/dashboard/login", data={"key": KEY})
        assert throttled.status_code == 429 and "Too many attempts" in throttled.text
        assert int(throttled.headers["Retry-After"]) > 0
        assert SESSION_COOKIE not in throttled.cookies, "even the right key waits once throttled"


def test_successful_log_ins_are_not_throttled(tmp_path: Path, publisher: RecordingPublisher) -> None:
    settings = Settings(data_dir=tmp_path, api_keys=KEY)
    app = create_app(settings, publisher, read_model=read_model(), login_limiter=TokenBucketLimiter(3, 0.01))
    with TestClient(app, follow_redirects=False) as client:
        assert {client.post("/dashboard/login", data={"key": KEY}).status_code for _ in range(6)} == {303}


def test_no_keys_configured_means_nobody_logs_in(tmp_path: Path, publisher: RecordingPublisher) -> None:
    app = create_app(Settings(data_dir=tmp_path, api_keys=""), publisher, read_model=read_model())
    with TestClient(app, follow_redirects=False) as client:
        assert client.post("/dashboard/login", data={"key": ""}).status_code == 401
        assert client.get("/dashboard").status_code == 303


def test_a_forged_or_tampered_cookie_is_not_a_session(client: TestClient) -> None:
    log_in(client)
    genuine = client.cookies[SESSION_COOKIE]
    session_id, actor, generation, expires, signature = genuine.split(".")
    forgeries = (
        f"x{session_id}.{actor}.{generation}.{expires}.{signature}",
        f"{session_id}.{actor}.{generation}.{int(expires) + 9}.{signature}",
        f"{session_id}.alice.{generation}.{expires}.{signature}",  # another actor under the key's signature
        "a.b.c",
    )
    for forged in forgeries:
        client.cookies.set(SESSION_COOKIE, forged, path="/dashboard")
        assert client.get("/dashboard").status_code == 303


def test_login_never_redirects_off_the_dashboard(client: TestClient) -> None:
    for target in ("https://evil.example", "//evil.example", "/api/v1/orders"):
        response = client.post("/dashboard/login", data={"key": KEY, "next": target})
        assert response.headers["location"] == "/dashboard"


def test_a_page_too_long_to_come_back_to_is_left_for_the_overview(client: TestClient) -> None:
    """The log-in form takes back a `next` of at most 2,048 characters: a longer one made the log-in a 422."""
    redirect = client.get("/dashboard/inventory", params={"sku": "x" * 3000})
    assert redirect.headers["location"] == "/dashboard/login?next=/dashboard"
    too_long = "/dashboard/inventory?sku=" + "x" * 3000
    assert client.post("/dashboard/login", data={"key": KEY, "next": too_long}).status_code == 422
    assert client.post("/dashboard/login", data={"key": KEY, "next": "/dashboard"}).headers["location"] == "/dashboard"


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders_with_a_session(client: TestClient, url: str) -> None:
    log_in(client)
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")


def test_overview_without_sql_views_shows_an_empty_view(client: TestClient) -> None:
    log_in(client)
    html = client.get("/dashboard").text
    assert 'hx-trigger="every 2s"' in html
    assert 'data-status="all">0<' in html  # the in-memory read model has no views to count over
    assert 'data-order-id="SHOP-2"' in html  # the latest orders come through the read model


def test_search_finds_by_id_reference_and_email(client: TestClient) -> None:
    log_in(client)
    for query in ("SHOP-2", "#SHOP-2"):
        assert 'data-order-id="SHOP-2"' in client.get("/dashboard/orders", params={"q": query}).text
    by_email = client.get("/dashboard/orders", params={"q": "Mara@Example.com"}).text
    assert by_email.count("data-order-id=") == 3


def test_order_detail_shows_the_timeline_and_a_missing_order_is_404(client: TestClient) -> None:
    log_in(client)
    html = client.get("/dashboard/orders/SHOP-2").text
    assert 'data-type="oms.order.placed"' in html
    assert 'id="cancel-form"' in html  # awaiting payment: nothing was handed to shipping
    assert 'id="cancel-form"' not in client.get("/dashboard/orders/SHOP-1").text  # its parcel was asked for
    assert 'id="cancel-form"' not in client.get("/dashboard/orders/SHOP-3").text  # shipped: too late
    assert client.get("/dashboard/orders/NOPE-1").status_code == 404


def test_inventory_flags_low_and_backordered_skus(client: TestClient) -> None:
    log_in(client)
    html = client.get("/dashboard/inventory").text
    assert re.search(r'data-sku="TEE-BLK-M" class="low\s*"', html)
    assert re.search(r'data-sku="MUG-01" class="\s*backordered"', html)


def test_cancel_needs_the_csrf_token_then_publishes_the_cancel_request(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    log_in(client)
    form = client.get("/dashboard/orders/SHOP-2").text
    refused = client.post("/dashboard/orders/SHOP-2/cancel", data={"reason": "asked", "csrf": "guess"})
    assert refused.status_code == 403
    assert publisher.published == []
    done = client.post(
        "/dashboard/orders/SHOP-2/cancel", data={"reason": "asked", "csrf": csrf_of(form), "nonce": "n1"}
    )
    assert done.headers["location"] == "/dashboard/orders/SHOP-2?notice=cancel-requested"
    [event] = publisher.of_type("oms.order.cancel_requested")
    assert (event.subject, event.data.reason) == ("SHOP-2", "asked")


def test_a_resubmitted_form_repeats_the_same_event_id(client: TestClient, publisher: RecordingPublisher) -> None:
    log_in(client)
    form = {"sku": "MUG-01", "qty": "5", "csrf": csrf_of(client.get("/dashboard/inventory").text), "nonce": "n2"}
    for _ in range(2):
        assert client.post("/dashboard/inventory/receipts", data=form).status_code == 303
    first, again = publisher.of_type("oms.stock.received")
    assert first.id == again.id
    assert (first.subject, first.data.qty) == ("MUG-01", 5)


def test_an_invalid_receipt_publishes_nothing(client: TestClient, publisher: RecordingPublisher) -> None:
    log_in(client)
    csrf = csrf_of(client.get("/dashboard/inventory").text)
    for sku, qty in (("MUG-01", "0"), ("MUG-01", "many"), ("bad sku!", "3")):
        response = client.post("/dashboard/inventory/receipts", data={"sku": sku, "qty": qty, "csrf": csrf})
        assert response.headers["location"] == "/dashboard/inventory?notice=invalid"
    assert publisher.published == []


def test_logging_out_ends_the_session(client: TestClient) -> None:
    log_in(client)
    csrf = csrf_of(client.get("/dashboard").text)
    assert client.post("/dashboard/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/dashboard").status_code == 303


def test_htmx_is_served_from_our_own_static_files(client: TestClient) -> None:
    assert client.get("/dashboard/static/htmx.min.js").status_code == 200
    log_in(client)
    assert "://" not in re.search(r'<script src="([^"]+)"', client.get("/dashboard").text).group(1)  # type: ignore[union-attr]
