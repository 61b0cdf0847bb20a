"""Inputs that fuzzing the HTTP API answered with a 500 (issue 12), and the limits that now answer them:
each is a 4xx problem+json that says what was wrong, and nothing is published. Also the last resort: an
error nobody mapped is a 500 problem that tells nothing of the cause or the request, and is logged."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from adapters.http.api import create_app
from adapters.http.api.deps import OrderFilters, PageRequest
from adapters.http.api.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, is_nested_too_deep
from adapters.http.api.memory import InMemoryReadModel
from adapters.http.api.sql_read_model import SqlReadModel
from adapters.http.channels.signatures import sign
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from events import Event
from projections.order_list_queries import OrderPage, OrderQuery
from tests.unit.test_api_ops import read_model as orders_read_model
from tests.unit.test_sql_read_model import history, project

KEY = "ops-key-1"
OPS = {"Authorization": f"Bearer {KEY}"}
SECRETS = {"shopify": "shop-secret", "woocommerce": "woo-secret", "native": "native-secret"}
SIGNATURE_HEADERS = {"shopify": "X-Shopify-Hmac-Sha256", "woocommerce": "X-WC-Webhook-Signature"}
CSV_HEADER = "order_ref,email,name,sku,qty,unit_price,currency\n"
PROBLEM_JSON = "application/problem+json"
DEEP = b"[" * 100_000 + b"]" * 100_000  # what the fuzzer sent: far past Python's recursion limit


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def client(tmp_path: Path, publisher: RecordingPublisher, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    for channel, secret in SECRETS.items():
        monkeypatch.setenv(f"OMS_CHANNEL_SECRET_{channel.upper()}", secret)
    settings = Settings(data_dir=tmp_path, api_keys=KEY)
    with TestClient(create_app(settings, publisher), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def sql_client(tmp_path: Path) -> Iterator[TestClient]:
    """The API over SQLite views the real projections built: SQLite refuses integers past 64 bits."""
    engine = engine_for(f"sqlite:///{tmp_path / 'views.sqlite3'}")
    project(engine, history())
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEY), RecordingPublisher(), read_model=SqlReadModel(engine))
    try:
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        engine.dispose()


def intake_headers(channel: str, body: bytes, content_type: str | None) -> dict[str, str]:
    """Signed like the channel signs (or the ops key for POS), so the body reaches the mapper."""
    headers = {"Content-Type": content_type} if content_type else {}
    if channel in SECRETS:
        headers[SIGNATURE_HEADERS.get(channel, "X-OMS-Signature")] = sign(body, SECRETS[channel])
    else:
        headers |= OPS
    return headers


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    return body


# --- the three 500s the fuzzer found ------------------------------------------------------------------


def test_an_offset_past_any_sql_integer_is_422_naming_the_parameter(sql_client: TestClient) -> None:
    response = sql_client.get("/api/v1/orders", params={"offset": 10**21}, headers=OPS)
    assert [error["field"] for error in problem_of(response, 422)["errors"]] == ["query.offset"]


def test_the_largest_offset_allowed_answers_an_empty_page(sql_client: TestClient) -> None:
    spec = sql_client.get("/openapi.json").json()
    offset = next(p for p in spec["paths"]["/api/v1/orders"]["get"]["parameters"] if p["name"] == "offset")
    largest = offset["schema"]["maximum"]
    page = sql_client.get("/api/v1/orders", params={"offset": largest}, headers=OPS)
    assert (page.status_code, page.json()["items"], page.json()["total"]) == (200, [], 3)


@pytest.mark.parametrize(
    "until", ["0001-01-01T00:00:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z"]
)
def test_a_query_time_past_the_bounds_is_422_not_an_overflow(sql_client: TestClient, until: str) -> None:
    """The analytics widen a range to whole days: one microsecond before year 1 overflowed (found by the fuzz
    test, a 500); so did turning a time with an offset at either end of `datetime` into UTC."""
    response = sql_client.get("/api/v1/analytics", params={"until": until}, headers=OPS)
    assert [error["field"] for error in problem_of(response, 422)["errors"]] == ["query.until"]


def test_a_query_time_without_an_offset_is_utc(tmp_path: Path) -> None:
    """Compared with the in-memory view's aware times, a naive one was a TypeError, a 500."""
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEY), RecordingPublisher(), read_model=orders_read_model())
    naive, utc = ({"placed_from": "2026-01-31T12:00:00" + zone} for zone in ("", "Z"))
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = [client.get("/api/v1/orders", params=query, headers=OPS) for query in (naive, utc)]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].json() == answers[1].json() and answers[0].json()["total"] == 2


@pytest.mark.parametrize("content_type", ["application/json", None], ids=["json", "no-content-type"])
@pytest.mark.parametrize("channel", ["shopify", "woocommerce", "native", "pos"])
def test_json_nested_past_the_limit_is_422_on_every_intake_channel(
    client: TestClient, publisher: RecordingPublisher, channel: str, content_type: str | None
) -> None:
    headers = intake_headers(channel, DEEP, content_type)
    response = client.post(f"/api/v1/channels/{channel}/orders", content=DEEP, headers=headers)
    [error] = problem_of(response, 422)["errors"]
    assert error == {"field": "(body)", "message": f"nests arrays and objects deeper than {MAX_JSON_DEPTH} levels"}
    assert publisher.published == []


def test_a_csv_cell_longer_than_the_csv_module_allows_is_an_error_naming_row_and_column(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    rows = "A-1,a@example.com,Ada,SKU-1,1,1.00,EUR\n" + f"A-1,,{'x' * 140_000},SKU-2,1,1.00,\n"
    headers = OPS | {"Content-Type": "text/csv"}
    response = client.post("/api/v1/channels/csv/orders", content=(CSV_HEADER + rows).encode(), headers=headers)
    assert problem_of(response, 422)["errors"] == [
        {
            "field": "name",
            "message": "must be at most 200 characters",
            "row": 3,
            "detail": "row 3: name must be at most 200 characters",
        }
    ]
    assert publisher.published == []


def test_a_csv_with_old_mac_line_ends_is_read_row_by_row(client: TestClient, publisher: RecordingPublisher) -> None:
    """A bare carriage return ended in csv.Error ("new-line character seen in unquoted field"), a 500."""
    rows = "A-1,a@example.com,Ada,SKU-1,1,1.00,EUR\nA-2,b@example.com,Bo,SKU-2,1,1.00,EUR\n"
    body = (CSV_HEADER + rows).replace("\n", "\r").encode()
    response = client.post("/api/v1/channels/csv/orders", content=body, headers=OPS | {"Content-Type": "text/csv"})
    assert response.status_code == 202, response.text
    assert [item["order_ref"] for item in response.json()] == ["A-1", "A-2"]


EDGE_OF_TIME = "0001-01-01T00:00:00+00:01"  # a minute before datetime's first moment, once in UTC


def test_a_time_that_leaves_datetimes_range_in_utc_is_a_field_error(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    """Found by the fuzz test: turning it into UTC raised OverflowError, which validation let through (a 500)."""
    eta = {"qty": 1, "eta": EDGE_OF_TIME, "purchase_order": "PO-1"}
    incoming = client.post("/api/v1/inventory/TEE/incoming", json=eta, headers=OPS)
    assert [error["field"] for error in problem_of(incoming, 422)["errors"]] == ["body.eta"]
    row = f"A-1,a@example.com,Ada,SKU-1,1,1.00,EUR,{EDGE_OF_TIME}\n"
    body = (CSV_HEADER.replace("\n", ",placed_at\n") + row).encode()
    upload = client.post("/api/v1/channels/csv/orders", content=body, headers=OPS | {"Content-Type": "text/csv"})
    [error] = problem_of(upload, 422)["errors"]
    assert (error["field"], error["row"]) == ("placed_at", 2)
    assert publisher.published == []


# --- the limits on bodies ----------------------------------------------------------------------------


def test_an_ops_action_nested_past_the_limit_is_422_not_a_parse_error(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    body = b'{"reason": ' + b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1) + b"}"
    headers = OPS | {"Content-Type": "application/json"}
    response = client.post("/api/v1/orders/SHOP-1/cancel", content=body, headers=headers)
    assert problem_of(response, 422)["errors"][0]["field"] == "(body)"
    assert publisher.published == []


def test_a_body_over_the_limit_is_413_whether_its_length_is_declared_or_not(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    body = b"x" * (MAX_BODY_BYTES + 1)
    headers = OPS | {"Content-Type": "text/csv"}
    declared = client.post("/api/v1/channels/csv/orders", content=body, headers=headers)
    problem_of(declared, 413)
    streamed = client.post("/api/v1/channels/csv/orders", content=iter([body[:1000], body[1000:]]), headers=headers)
    assert "content-length" not in streamed.request.headers
    problem_of(streamed, 413)
    assert publisher.published == []


def test_a_body_at_the_limit_reaches_the_route(client: TestClient) -> None:
    body = b" " * (MAX_BODY_BYTES - 2) + b"{}"
    response = client.post("/api/v1/channels/pos/orders", content=body, headers=OPS)
    assert "store_id" in {error["field"] for error in problem_of(response, 422)["errors"]}


@pytest.mark.parametrize(
    ("body", "too_deep"),
    [
        (b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, False),
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), True),
        (b'{"a": "' + b"[{" * 100 + b'"}', False),  # brackets inside a string do not nest
        (b'{"a": "\\"' + b"[" * 100 + b'"}', False),  # nor after an escaped quote
        (b'[1, {"b": [2, {"c": []}]}]', False),
    ],
)
def test_nesting_is_measured_outside_strings(body: bytes, too_deep: bool) -> None:
    assert is_nested_too_deep(body) is too_deep


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/nope", 404), ("DELETE", "/api/v1/orders", 405)])
def test_the_routers_own_errors_are_problems_with_a_detail(
    client: TestClient, method: str, path: str, status: int
) -> None:
    problem = problem_of(client.request(method, path, headers=OPS), status)
    assert problem["title"] == HTTPStatus(status).phrase


# --- the last resort ---------------------------------------------------------------------------------

PERSONAL = "mara.schulz@example.com"


class BrokenReadModel(InMemoryReadModel):
    """The in-memory fake with a bug: its error message carries personal data, as real ones can."""

    def list_orders(self, filters: OrderFilters, page: PageRequest) -> tuple[Sequence[Any], int]:
        raise RuntimeError(f"bug while reading the orders of {filters.customer}")

    def order_page(self, query: OrderQuery, limit: int, after: str | None = None) -> OrderPage:
        raise RuntimeError(f"bug while reading the orders of {query.customer}")


class BrokenPublisher(RecordingPublisher):
    async def publish(self, events: Sequence[Event[Any]]) -> None:
        raise RuntimeError("bug in the publisher")


def test_an_unexpected_error_is_a_500_problem_telling_nothing_of_the_cause_or_the_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEY), RecordingPublisher(), read_model=BrokenReadModel())
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/orders", params={"customer": PERSONAL}, headers=OPS)
    problem = problem_of(response, 500)
    assert (problem["title"], problem["type"]) == ("Internal error", "/problems/internal")
    assert PERSONAL not in response.text and "RuntimeError" not in response.text and "Traceback" not in response.text
    [record] = [r for r in caplog.records if r.name == "adapters.http.api.errors"]
    assert record.exc_info is not None, "the log keeps the traceback"
    assert record.getMessage().split()[1].rstrip(":") in problem["detail"], "the incident id ties answer and log"
    assert PERSONAL not in record.getMessage(), "nor the query string"


def test_the_log_of_an_unexpected_error_never_holds_the_request_body(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEY), BrokenPublisher())
    marker = "PO-secret-4711"
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/api/v1/inventory/TEE/receipts", json={"qty": 1, "purchase_order": marker}, headers=OPS)
    problem_of(response, 500)
    assert "bug in the publisher" in caplog.text, "the traceback is logged"
    assert marker not in caplog.text
