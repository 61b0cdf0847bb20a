"""Every ops action is attributed: an operator's cancellation names them on the order's timeline (API and
dashboard), in `oms audit` and on the audit page, read from the log; and no password or token is ever in plain text
in the database, the log or the events."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text
from typer.testing import CliRunner

from adapters.cli import app as cli
from adapters.http.api import create_app
from adapters.http.api.sql_read_model import SqlReadModel
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.engines import archive_url, engine_for
from events import Event, EventData, encode
from projections import archive as history
from projections.archive import Record
from projections.projector import ARCHIVE, ORDERS, apply_records, prepare_views
from projections.tables import create_tables
from tests.unit.test_dashboard_pages import csrf_of
from tests.unit.test_sql_read_model import placed

KEY = "bootstrap-key-1"
PASSWORD = "olga's long passphrase"
DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def oms(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@dataclass
class System:
    client: TestClient
    publisher: RecordingPublisher
    views: Engine
    archive: Engine
    logged: pytest.LogCaptureFixture
    offset: int = 0

    def project(self, events: Sequence[Event[EventData]]) -> None:
        """What `oms project` does with these events: the orders view and the history archive."""
        records = []
        for event in events:
            records.append((Record(event.topic, 0, self.offset, event.subject, encode(event)), event))
            self.offset += 1
        with self.views.begin() as conn:
            apply_records(conn, ORDERS, [r for r, _ in records if r.topic in ORDERS.topics])
        with self.archive.begin() as conn:
            history.append(conn, records)


@pytest.fixture
def system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[System]:
    monkeypatch.setenv("OMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OMS_API_KEYS", KEY)
    caplog.set_level(logging.DEBUG)
    settings = Settings()
    views, archive = engine_for(settings.views_url), engine_for(archive_url(settings))
    with views.begin() as conn:
        prepare_views(conn, ORDERS)
    with archive.begin() as conn:
        create_tables(conn, ARCHIVE.tables)
    publisher = RecordingPublisher()
    app = create_app(settings, publisher, read_model=SqlReadModel(views))
    with TestClient(app, follow_redirects=False) as client:
        made = System(client, publisher, views, archive, caplog)
        made.project([placed("o-1", "web", "ada@example.com", {"TEE": (1, "24.90")}, DAY)])
        yield made
    views.dispose()
    archive.dispose()


def token_from(output: str) -> str:
    found = re.search(r"(oms_\S+)", output)
    assert found, output
    return found.group(1)


def test_an_operators_cancellation_is_on_the_timeline_and_in_the_audit(system: System) -> None:
    oms("users", "add", "olga", "--role", "operator", "--password", PASSWORD)
    oms("users", "add", "vera", "--role", "viewer", "--password", PASSWORD)
    token = token_from(oms("users", "token", "olga", "--label", "script"))
    auth = {"Authorization": f"Bearer {token}"}
    assert system.client.post("/api/v1/orders/o-1/cancel", json={"reason": "asked"}, headers=auth).status_code == 202
    system.project(system.publisher.published)

    timeline = system.client.get("/api/v1/orders/o-1", headers=auth).json()["timeline"]
    assert [(e["type"], e["actor"]) for e in timeline] == [
        ("oms.order.placed", None),
        ("oms.order.cancel_requested", "olga"),
    ]
    assert system.client.post("/dashboard/login", data={"username": "vera", "password": PASSWORD}).status_code == 303
    assert "by olga" in system.client.get("/dashboard/orders/o-1").text

    [action] = orjson.loads(oms("audit", "--user", "olga", "--json"))
    assert (action["actor"], action["type"], action["subject"]) == ("olga", "oms.order.cancel_requested", "o-1")
    assert action["summary"] == "cancellation requested: asked"
    assert "ops actions (1, newest first)" in oms("audit", "--user", "olga")
    assert "no ops actions by vera" in oms("audit", "--user", "vera")
    assert "no ops actions" in oms("audit", "--since", "2999-01-01")
    page = system.client.get("/dashboard/audit", params={"user": "olga"}).text
    assert 'class="actor"' in page and "cancel_requested" in page and "o-1" in page


def test_a_dashboard_action_by_a_user_is_attributed_in_the_audit(system: System) -> None:
    oms("users", "add", "otto", "--role", "operator", "--password", PASSWORD)
    assert system.client.post("/dashboard/login", data={"username": "otto", "password": PASSWORD}).status_code == 303
    form = system.client.get("/dashboard/inventory").text
    data = {"sku": "TEE", "qty": "4", "new_sku": "true", "csrf": csrf_of(form), "nonce": "n1"}  # TEE is new here
    assert system.client.post("/dashboard/inventory/receipts", data=data).status_code == 303
    system.project(system.publisher.published)
    audit = oms("audit", "--json")
    assert '"actor": "otto"' in audit and "oms.stock.received" in audit and "qty=4" in audit


def test_no_password_or_token_is_stored_logged_or_published_in_plain_text(system: System, tmp_path: Path) -> None:
    oms("users", "add", "olga", "--role", "operator", "--password", PASSWORD)
    token = token_from(oms("users", "token", "olga"))
    login = {"username": "olga", "password": PASSWORD}
    assert system.client.post("/dashboard/login", data=login).status_code == 303
    assert system.client.post("/dashboard/login", data=login | {"password": PASSWORD + "?"}).status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    assert system.client.post("/api/v1/orders/o-1/cancel", json={"reason": "a"}, headers=auth).status_code == 202
    assert system.client.post("/api/v1/orders/o-1/cancel", json={"reason": "b"}, headers=auth).status_code == 202
    key_auth = {"Authorization": f"Bearer {KEY}"}
    assert system.client.post("/api/v1/inventory/TEE/receipts", json={"qty": 1}, headers=key_auth).status_code == 202
    oms("users", "reset", "olga", "--password", PASSWORD + " new")
    system.project(system.publisher.published)
    assert "oms_users" in inspect(system.views).get_table_names()

    stored = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())  # databases, WAL files
    published = b"".join(encode(event) for event in system.publisher.published)
    logged = system.logged.text + oms("users", "list") + oms("audit")
    secrets = (PASSWORD, PASSWORD + " new", token, token.removeprefix("oms_"), KEY)
    for secret in secrets:
        assert secret.encode() not in stored, "a secret is in the database"
        assert secret.encode() not in published, "a secret is in the events"
        assert secret not in logged, "a secret is in the log"
    assert b"$argon2id$" in stored  # what is kept instead


def test_a_timeline_made_before_the_actor_gets_the_column_its_rows_unchanged(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    with engine.begin() as conn:
        prepare_views(conn, ORDERS)
        conn.execute(text("ALTER TABLE order_timeline DROP COLUMN actor"))
        conn.execute(
            text(
                'INSERT INTO order_timeline (event_id, order_id, topic, partition, "offset", type, time, summary, '
                "dead_lettered) VALUES ('e-1', 'o-9', 'oms.orders', 0, 0, 'oms.order.placed', '2026-03-02', 'placed', "
                "0)"
            )
        )
    with engine.begin() as conn:
        assert prepare_views(conn, ORDERS) is False  # nothing dropped: the column is added in place
        rows = conn.execute(text("SELECT event_id, summary, actor FROM order_timeline")).all()
    assert rows == [("e-1", "placed", None)]
    engine.dispose()
