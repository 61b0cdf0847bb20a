"""Inputs that fuzzing the HTTP API answered with a 500 (issue 12), and the limits that now answer them:
each is a 4xx problem+json that says what was wrong, and nothing is published. Also the last resort: an
error nobody mapped is a 500 problem that tells nothing of the cause or the request, and is logged."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from adapters.api import create_app
from adapters.api.deps import OrderFilters, PageRequest
from adapters.api.memory import InMemoryReadModel
from adapters.publisher import RecordingPublisher
from adapters.settings import Settings
from events import Event

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


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    return body


# --- the last resort ---------------------------------------------------------------------------------

PERSONAL = "mara.schulz@example.com"


class BrokenReadModel(InMemoryReadModel):
    """The in-memory fake with a bug: its error message carries personal data, as real ones can."""

    def list_orders(self, filters: OrderFilters, page: PageRequest) -> tuple[Sequence[Any], int]:
        raise RuntimeError(f"bug while reading the orders of {filters.customer}")


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
    [record] = [r for r in caplog.records if r.name == "adapters.api.errors"]
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
