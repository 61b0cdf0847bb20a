"""The HTTP fuzz tests' harness: the app under test, how a `FuzzRequest` is sent to it, what its answer
must be, and a seeded hypothesis run. `test_api_fuzz` (SQLite) and `test_api_fuzz_postgres` use it."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import Engine

from adapters.http.api import create_app
from adapters.http.api.ratelimit import TokenBucketLimiter
from adapters.http.api.sql_read_model import SqlReadModel
from adapters.http.channels.signatures import SIGNATURE_HEADERS, sign
from adapters.http.dashboard.auth import SESSION_COOKIE
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.intake import IntakeStore
from tests.profiles import share
from tests.unit.fuzz_support import CSRF, FuzzRequest, Tally, dumps, mostly
from tests.unit.test_sql_read_model import history, project

SEED = int(os.environ.get("OMS_FUZZ_SEED") or secrets.randbits(32))
KEY = "fuzz-ops-key"
SECRETS = {"shopify": "shop-secret", "woocommerce": "woo-secret", "native": "native-secret"}
SECRETS |= {"payments": "pay-secret", "carrier": "carrier-secret"}
NOW = datetime(2026, 2, 2, 12, 0, tzinfo=UTC)
BASE_URL = "http://testserver"
PROBLEM_FIELDS = {"type", "title", "status", "detail"}
UNLIMITED = 1e12  # the rate limits' burst: every request reaches the code behind them
FUZZ_SETTINGS = settings(
    database=None,  # nothing but the seed decides what is sent
    deadline=None,  # timings vary on a shared machine; the run's total is what is bounded
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,  # one app per test, shared by its examples, on purpose
        HealthCheck.filter_too_much,
    ],
)


@dataclass
class Target:
    """The app under test, and the dashboard session its forms are sent with."""

    app: FastAPI
    client: TestClient
    cookie: str
    csrf: str


@contextmanager
def open_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, views: Engine, intake_store: IntakeStore | None = None
) -> Iterator[Target]:
    """The app as `oms api` wires it, over `views` (built here by the real projections), with a recording
    publisher, a fixed clock, and rate limits out of reach so that every request reaches the code behind them."""
    for channel, secret in SECRETS.items():
        monkeypatch.setenv(f"OMS_CHANNEL_SECRET_{channel.upper()}", secret)
    project(views, history())
    app = create_app(
        Settings(data_dir=tmp_path, api_keys=KEY),
        RecordingPublisher(),
        intake_store=intake_store,
        read_model=SqlReadModel(views),
        readiness={},
        tracking_limiter=TokenBucketLimiter(burst=UNLIMITED),
        login_limiter=TokenBucketLimiter(burst=UNLIMITED),
        clock=lambda: NOW,
    )
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield Target(app, client, *logged_in(client))


def logged_in(client: TestClient) -> tuple[str, str]:
    """The session cookie and its CSRF token."""
    client.post("/dashboard/login", data={"key": KEY})
    cookie = client.cookies[SESSION_COOKIE]
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/dashboard").text)
    assert found, "the dashboard shows no CSRF token"
    client.cookies.clear()  # each request says itself whether it has a session
    return cookie, found.group(1)


def send(target: Target, request: FuzzRequest) -> httpx.Response:
    headers = dict(request.headers)
    content = request.content
    if request.form is not None:
        content = form_body(request, target.csrf, headers)
    if request.sign_as == "ops":
        headers["Authorization"] = f"Bearer {KEY}"
    elif request.sign_as:
        headers[SIGNATURE_HEADERS[request.sign_as]] = sign(content or b"", SECRETS[request.sign_as])
    if request.session:
        headers["Cookie"] = f"{SESSION_COOKIE}={target.cookie}"
    url = request.path + (f"?{query_string(request.params)}" if request.params else "")
    response = target.client.request(request.method, url, headers=headers, content=content)
    target.client.cookies.clear()  # a log-in or log-out answer sets or drops the cookie: forget it
    return response


def query_string(params: dict[str, Any]) -> str:
    return urlencode(params, doseq=True, encoding="utf-8", errors="surrogatepass")


def form_body(request: FuzzRequest, csrf: str, headers: dict[str, str]) -> bytes:
    """The form urlencoded, or as multipart when the request asks for it (lone surrogates kept)."""
    assert request.form is not None
    fields = {name: csrf if value == CSRF else value for name, value in request.form.items()}
    if headers.pop("X-Form-Encoding", None) != "multipart" or not fields:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return query_string(fields).encode()
    parts = httpx.Request(
        "POST", BASE_URL, files={name: (None, value.encode("utf-8", "surrogatepass")) for name, value in fields.items()}
    )
    headers["Content-Type"] = parts.headers["Content-Type"]
    return parts.read()


def check(request: FuzzRequest, response: httpx.Response) -> None:
    replay = f"(replay: OMS_FUZZ_SEED={SEED})"
    assert response.status_code < 500, f"{request!r} answered {response.status_code}: {response.text[:300]} {replay}"
    if 400 <= response.status_code < 500 and is_api(request) and request.method != "HEAD":
        assert response.headers["content-type"] == "application/problem+json", f"{request!r} {replay}"
        assert set(response.json()) >= PROBLEM_FIELDS, f"{request!r}: {response.text[:300]} {replay}"


def is_api(request: FuzzRequest) -> bool:
    """Everything but the dashboard, which answers people with its own pages."""
    return not request.path.startswith("/dashboard")


def fuzz(target: Target, requests: st.SearchStrategy[FuzzRequest], examples: int) -> Tally:
    """Send `examples` requests (a quarter of them outside the nightly run: tests/profiles.py)."""
    tally = Tally()

    @seed(SEED)
    @settings(FUZZ_SETTINGS, max_examples=share(examples))
    @given(requests)
    def run(request: FuzzRequest) -> None:
        response = send(target, request)
        tally.count(response)
        check(request, response)

    run()
    return tally


def report(capsys: pytest.CaptureFixture[str], label: str, tally: Tally) -> None:
    with capsys.disabled():
        print(f"\n{tally.summary(label, SEED)}")


# --- the OpenAPI document, through schemathesis ------------------------------------------------------


def openapi_requests(app: FastAPI) -> st.SearchStrategy[FuzzRequest]:
    schema = schemathesis.openapi.from_dict(app.openapi())
    cases = schema.as_strategy(GenerationMode.POSITIVE) | schema.as_strategy(GenerationMode.NEGATIVE)
    return st.builds(from_case, cases, mostly)


def from_case(case: schemathesis.Case, credentials: bool) -> FuzzRequest:
    """The case as schemathesis would send it; nine in ten carry what reaches past the auth check: the
    channel's signature for a signed intake channel, the ops key for everything else."""
    sent = case.as_transport_kwargs(base_url=BASE_URL)
    body = dumps(sent["json"]) if "json" in sent else sent.get("data")
    path = sent["url"].removeprefix(BASE_URL)
    channel = path.removeprefix("/api/v1/channels/").partition("/")[0]
    signer = (channel if channel in SECRETS else "ops") if credentials else None
    headers = {name: str(value) for name, value in sent["headers"].items()}
    content = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return FuzzRequest(
        case.method.upper(), path, params=sent["params"], headers=headers, content=content, sign_as=signer
    )
