"""Customer tracking: answers the owner, leaks nothing to anyone else, and is rate-limited."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from adapters.http.api import create_app
from adapters.http.api.memory import InMemoryReadModel
from adapters.http.api.ratelimit import TokenBucketLimiter
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings

ORDER = {
    "order_id": "SHOP-1",
    "external_ref": "#1042",
    "status": "shipped",
    "customer_email": "Mara@Example.com",
    "customer_name": "Mara Schulz",
    "eta": "2026-02-03T12:00:00Z",
    "carrier": "simship",
    "tracking_number": "SIM1",
    "tracking_url": "https://track.example/SIM1",
}


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def client_for(tmp_path: Path, limiter: TokenBucketLimiter | None = None) -> TestClient:
    model = InMemoryReadModel(orders={"SHOP-1": ORDER})
    app = create_app(Settings(data_dir=tmp_path), RecordingPublisher(), read_model=model, tracking_limiter=limiter)
    return TestClient(app)


def test_owner_sees_status_eta_and_link_by_id_or_number(tmp_path: Path) -> None:
    client = client_for(tmp_path)
    for reference in ("SHOP-1", "#1042"):
        response = client.get("/api/v1/track", params={"order": reference, "email": " mara@example.com"})
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["tracking_url"]) == ("shipped", "https://track.example/SIM1")
        assert body["eta"].startswith("2026-02-03")
        assert "customer_email" not in body and "customer_name" not in body


def test_wrong_email_answers_exactly_like_an_unknown_order(tmp_path: Path) -> None:
    client = client_for(tmp_path)
    wrong = client.get("/api/v1/track", params={"order": "SHOP-1", "email": "someone@example.com"})
    unknown = client.get("/api/v1/track", params={"order": "NOPE-9", "email": "someone@example.com"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.content == unknown.content
    assert wrong.headers["content-type"] == unknown.headers["content-type"] == "application/problem+json"
    assert b"SHOP" not in wrong.content and b"mara" not in wrong.content.lower()


def test_lookups_are_rate_limited_per_client(tmp_path: Path) -> None:
    clock = Clock()
    client = client_for(tmp_path, TokenBucketLimiter(burst=3, per_second=0.5, clock=clock))
    params = {"order": "NOPE-9", "email": "x@example.com"}
    assert [client.get("/api/v1/track", params=params).status_code for _ in range(3)] == [404] * 3
    limited = client.get("/api/v1/track", params=params)
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.headers["retry-after"] == "2"
    clock.now = 2.0
    assert client.get("/api/v1/track", params=params).status_code == 404


def test_limiter_keeps_clients_apart() -> None:
    limiter = TokenBucketLimiter(burst=1, per_second=0.1, clock=Clock())
    assert limiter.allow("10.0.0.1")
    assert not limiter.allow("10.0.0.1")
    assert limiter.allow("10.0.0.2")


def test_track_page_is_plain_html_calling_the_api(tmp_path: Path) -> None:
    page = client_for(tmp_path).get("/track")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/api/v1/track" in page.text
    assert "http" not in page.text.split("<script>")[0].lower().replace("http-equiv", "")
