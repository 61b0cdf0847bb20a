"""The exceptions desk's page and API over a desk view folded in SQLite: items listed, one shown with its original,
a retry published from the page (CSRF checked) and through the API (ops key checked)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

from adapters.http.api import create_app
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.desk import SqlDesk
from events import encode, topics
from projections.projector import DESK, apply_records, prepare_views
from tests import builders as b
from tests.unit.test_dashboard_pages import KEY, csrf_of, log_in
from tests.unit.test_desk_fold import Log

AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def desk_log() -> Log:
    log = Log()
    log.dead_letter(log.put_bytes(topics.ORDERS, b"<garbage & more>", key="o-junk"), "malformed_json")
    placed = b.order_placed("o-1", {"MUG": 1})
    log.dead_letter(log.put_bytes(topics.ORDERS, encode(placed), key="wrong"), "wrong_key")
    return log


@pytest.fixture
def engine(desk_log: Log) -> Iterator[Engine]:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    with engine.begin() as conn:
        prepare_views(conn, DESK)
        apply_records(conn, DESK, desk_log.records)
    yield engine
    engine.dispose()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def client(tmp_path: Path, engine: Engine, publisher: RecordingPublisher) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEY), publisher, desk=SqlDesk(engine))
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def item_id(client: TestClient, subject: str) -> str:
    items = client.get("/api/v1/deadletters", headers=AUTH).json()["items"]
    return str(next(item["item_id"] for item in items if item["subject"] == subject))


def test_the_page_lists_every_item_and_escapes_the_original(client: TestClient) -> None:
    log_in(client)
    listing = client.get("/dashboard/deadletters")
    assert listing.status_code == 200
    assert "o-junk" in listing.text and "wrong_key" in listing.text and "2 items" in listing.text
    only_open = client.get("/dashboard/deadletters/items", params={"status": "resolved"})
    assert "Nothing needs a person" in only_open.text
    shown = client.get(f"/dashboard/deadletters/{item_id(client, 'o-junk')}")
    assert "&lt;garbage &amp; more&gt;" in shown.text and "Not retried" in shown.text
    assert client.get("/dashboard/deadletters/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_retry_from_the_page_needs_the_csrf_token_then_publishes_the_original(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    log_in(client)
    wanted = item_id(client, "wrong")
    page = client.get(f"/dashboard/deadletters/{wanted}")
    assert client.post(f"/dashboard/deadletters/{wanted}/retry", data={"csrf": "guess"}).status_code == 403
    answer = client.post(f"/dashboard/deadletters/{wanted}/retry", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 303 and answer.headers["location"].endswith("notice=retried")
    [retry] = publisher.published
    assert (retry.type, retry.subject, retry.causationid) == ("oms.order.placed", "o-1", wanted)


def test_garbage_without_a_corrected_event_is_refused_on_the_page_and_in_the_api(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    log_in(client)
    junk = item_id(client, "o-junk")
    page = client.get(f"/dashboard/deadletters/{junk}")
    refused = client.post(f"/dashboard/deadletters/{junk}/retry", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 422 and "give a corrected event" in refused.text
    assert client.post(f"/api/v1/deadletters/{junk}/retry", headers=AUTH).status_code == 422
    corrected = b.order_placed("o-2", {"TEA": 1}).model_dump(mode="json")
    assert client.post(f"/api/v1/deadletters/{junk}/retry", json={"event": corrected}).status_code == 401
    accepted = client.post(f"/api/v1/deadletters/{junk}/retry", json={"event": corrected}, headers=AUTH)
    assert accepted.status_code == 202 and accepted.json()["subject"] == "o-2"
    assert [event.subject for event in publisher.published] == ["o-2"]
