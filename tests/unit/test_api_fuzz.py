"""Fuzzing every HTTP input of the API and the dashboard: no request may be answered with a 500.

What is sent, through the real ASGI app (SQLite views built by the real projections, a recording publisher):
- every operation of the app's own OpenAPI document, through schemathesis, with valid and invalid data;
- the intake of every JSON channel: its sample order with hostile values (nesting thousands deep, strings
  of 300,000 characters, odd unicode and lone surrogates, NUL, wrong types, numbers of 6,000 digits),
  signed with the channel's secret so that it reaches the mapper;
- CSV uploads: hostile cells (longer than the csv module's cap), odd quoting, delimiters, line ends, stray
  quotes and NULs, UTF-16 and Latin-1, plain binary;
- every read and page with its query parameters set to hostile values (reads, tracking, dashboard);
- the dashboard's forms and log-in, mostly with a session and its CSRF token, urlencoded or multipart;
- any route with hostile path parameters, any method, and a hostile body.
An API answer in the 4xx is problem+json with type, title, status and detail. The dashboard answers people
with pages: a redirect to its log-in, its own 401, 403, 404 and 429 pages.

Seeded and reproducible: each test prints its seed and figures (`fuzz JSON intake: OMS_FUZZ_SEED=<n>,
<requests> requests in <s> s; statuses ...`), and a failure's message carries the seed. Run the same command
with the same seed to send the same requests again (two runs of the quick tests with one seed answer with
the same statuses, test for test):

    OMS_FUZZ_SEED=<n> .venv/bin/pytest -q tests/unit/test_api_fuzz.py -m "not slow"

Without OMS_FUZZ_SEED a fresh seed is drawn each run. Hypothesis's example database is off, so nothing but
the seed, the command and the test profile decide what is sent. In the default run the `quick` tests send
1,000 requests (about 15 s on a 2-core machine); the nightly profile sends their full 4,000 and adds the
`long` ones (marked `nightly` and `slow`), five times as many again, in about 2.5 minutes:

    OMS_FUZZ_SEED=<n> OMS_TEST_PROFILE=nightly .venv/bin/pytest -q tests/unit/test_api_fuzz.py -m slow

`tests/integration/test_api_fuzz_postgres.py` sends the same kinds of requests with the views and the intake
store on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.sql.engines import engine_for
from tests.unit.fuzz_harness import Target, fuzz, open_target, openapi_requests, report
from tests.unit.fuzz_support import (
    UNDOCUMENTED_ROUTES,
    csv_requests,
    dashboard_forms,
    intake_json_requests,
    query_requests,
    raw_requests,
)

BUDGETS = [pytest.param(1, id="quick"), pytest.param(5, id="long", marks=[pytest.mark.slow, pytest.mark.nightly])]


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    views = engine_for(f"sqlite:///{tmp_path / 'views.sqlite3'}")
    try:
        with open_target(tmp_path, monkeypatch, views) as opened:
            yield opened
    finally:
        views.dispose()


# --- the OpenAPI document, through schemathesis -----------------------------------------------------


@pytest.mark.parametrize("scale", BUDGETS)
def test_openapi_operations_never_answer_500(target: Target, scale: int, capsys: pytest.CaptureFixture[str]) -> None:
    report(capsys, "OpenAPI operations", fuzz(target, openapi_requests(target.app), 1_000 * scale))


# --- hostile bodies, queries, forms ------------------------------------------------------------------


@pytest.mark.parametrize("scale", BUDGETS)
def test_intake_of_every_json_channel_never_answers_500(
    target: Target, scale: int, capsys: pytest.CaptureFixture[str]
) -> None:
    report(capsys, "JSON intake", fuzz(target, intake_json_requests(), 800 * scale))


@pytest.mark.parametrize("scale", BUDGETS)
def test_csv_uploads_never_answer_500(target: Target, scale: int, capsys: pytest.CaptureFixture[str]) -> None:
    report(capsys, "CSV uploads", fuzz(target, csv_requests(), 500 * scale))


@pytest.mark.parametrize("scale", BUDGETS)
def test_reads_and_pages_with_hostile_query_parameters_never_answer_500(
    target: Target, scale: int, capsys: pytest.CaptureFixture[str]
) -> None:
    report(capsys, "query parameters", fuzz(target, query_requests(), 600 * scale))


@pytest.mark.parametrize("scale", BUDGETS)
def test_dashboard_forms_and_log_in_never_answer_500(
    target: Target, scale: int, capsys: pytest.CaptureFixture[str]
) -> None:
    report(capsys, "dashboard forms", fuzz(target, dashboard_forms(), 500 * scale))


@pytest.mark.parametrize("scale", BUDGETS)
def test_any_route_any_method_any_body_never_answers_500(
    target: Target, scale: int, capsys: pytest.CaptureFixture[str]
) -> None:
    routes = {path: {method.upper() for method in item} for path, item in target.app.openapi()["paths"].items()}
    report(capsys, "any route", fuzz(target, raw_requests(routes | UNDOCUMENTED_ROUTES), 600 * scale))
