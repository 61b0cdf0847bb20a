"""The HTTP fuzz test against PostgreSQL: views and intake store in a schema of their own.

PostgreSQL refuses what SQLite takes: a NUL character in text (in a query's parameter too), a string longer
than its column. The regression tests below are what the fuzz test found that way; the fuzz tests send the
same kinds of requests as `tests/unit/test_api_fuzz.py`, seeded by the same OMS_FUZZ_SEED (see there).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from adapters.http.channels.signatures import sign
from adapters.sql.engines import drop_schema, engine_for
from adapters.sql.intake import IntakeStore
from tests.unit.fuzz_harness import KEY, SECRETS, Target, fuzz, open_target, openapi_requests, report
from tests.unit.fuzz_support import EXAMPLES, csv_requests, intake_json_requests, query_requests

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

OPS = {"Authorization": f"Bearer {KEY}"}


def is_reachable(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str) -> Iterator[Target]:
    if not is_reachable(postgres_url):
        pytest.skip("PostgreSQL is not reachable")
    schema = f"fuzz_{uuid.uuid4().hex[:12]}"
    engine = engine_for(postgres_url, schema=schema)
    try:
        with open_target(tmp_path, monkeypatch, engine, IntakeStore(engine)) as opened:
            yield opened
    finally:
        engine.dispose()
        drop_schema(postgres_url, schema)


# --- what the fuzz test found -------------------------------------------------------------------------


def test_a_nul_in_a_lookup_matches_nothing(target: Target) -> None:
    client = target.client
    tracked = client.get("/api/v1/track", params={"order": "o-1\x00", "email": "ada@example.com"})
    assert (tracked.status_code, tracked.headers["content-type"]) == (404, "application/problem+json")
    listed = client.get("/api/v1/orders", params={"channel": "web\x00", "customer": "\x00"}, headers=OPS)
    assert (listed.status_code, listed.json()["total"]) == (200, 0)
    no_status = client.get("/api/v1/orders", params={"status": "shipped\x00"}, headers=OPS)
    assert no_status.status_code == 422, "only a status the orders view has is a filter (issue 16)"
    cookie = {"Cookie": f"oms_dashboard={target.cookie}"}
    assert client.get("/dashboard/orders", params={"q": "a\x00@example.com"}, headers=cookie).status_code == 200


@pytest.mark.parametrize("order_id", ["5624593694771\x00", 10**130, "x" * 200], ids=["nul", "huge", "long"])
def test_a_webhook_order_id_the_intake_store_cannot_keep_is_422(target: Target, order_id: object) -> None:
    body = json.dumps(EXAMPLES["shopify"] | {"id": order_id}).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Hmac-Sha256": sign(body, SECRETS["shopify"])}
    response = target.client.post("/api/v1/channels/shopify/orders", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["id"] * len(response.json()["errors"])


# --- the fuzz tests -----------------------------------------------------------------------------------


def test_openapi_operations_never_answer_500(target: Target, capsys: pytest.CaptureFixture[str]) -> None:
    report(capsys, "OpenAPI operations on PostgreSQL", fuzz(target, openapi_requests(target.app), 500))


def test_intake_never_answers_500(target: Target, capsys: pytest.CaptureFixture[str]) -> None:
    report(capsys, "JSON intake on PostgreSQL", fuzz(target, intake_json_requests(), 400))
    report(capsys, "CSV uploads on PostgreSQL", fuzz(target, csv_requests(), 300))


def test_reads_and_pages_with_hostile_query_parameters_never_answer_500(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    report(capsys, "query parameters on PostgreSQL", fuzz(target, query_requests(), 400))
