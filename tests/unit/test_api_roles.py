"""Roles over HTTP: a viewer reads, an operator acts on orders and stock, an admin manages users and webhooks; the
bootstrap ops keys are admins; a disabled user's tokens stop at once; every action names who asked for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.http.api import create_app
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.credentials import Role, key_actor
from adapters.sql.users import UserStore
from tests.unit.test_dashboard_pages import read_model

KEY = "bootstrap-key-1"
PASSWORD = "correct horse battery"
CANCEL = "/api/v1/orders/SHOP-2/cancel"


@dataclass
class Setup:
    client: TestClient
    publisher: RecordingPublisher
    store: UserStore
    tokens: dict[str, str]

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens.get(who, who)}"}


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    settings = Settings(data_dir=tmp_path, api_keys=KEY)
    store = UserStore.from_url(settings.views_url)
    tokens = {}
    for name, role in (("vera", Role.VIEWER), ("olga", Role.OPERATOR), ("ada", Role.ADMIN)):
        store.add(name, role, PASSWORD)
        tokens[name] = store.issue_token(name, "tests")
    publisher = RecordingPublisher()
    with TestClient(create_app(settings, publisher, read_model=read_model())) as client:
        yield Setup(client, publisher, store, tokens)


def test_a_viewer_reads_but_cannot_cancel_or_receive_stock(setup: Setup) -> None:
    assert setup.client.get("/api/v1/orders", headers=setup.as_("vera")).status_code == 200
    assert setup.client.get("/api/v1/inventory", headers=setup.as_("vera")).status_code == 200
    refused = setup.client.post(CANCEL, json={"reason": "asked"}, headers=setup.as_("vera"))
    assert refused.status_code == 403
    assert "operator" in refused.json()["detail"]
    receipt = setup.client.post("/api/v1/inventory/MUG-01/receipts", json={"qty": 5}, headers=setup.as_("vera"))
    assert receipt.status_code == 403
    assert setup.publisher.published == []


def test_an_operator_cancels_and_the_event_names_them(setup: Setup) -> None:
    response = setup.client.post(CANCEL, json={"reason": "asked"}, headers=setup.as_("olga"))
    assert response.status_code == 202
    [event] = setup.publisher.of_type("oms.order.cancel_requested")
    assert event.actor == "olga"


def test_an_operator_cannot_add_users_or_manage_webhooks(setup: Setup) -> None:
    body = {"name": "mallory", "role": "admin", "password": PASSWORD}
    assert setup.client.post("/api/v1/users", json=body, headers=setup.as_("olga")).status_code == 403
    assert setup.client.get("/api/v1/webhooks", headers=setup.as_("olga")).status_code == 403
    assert setup.store.get("mallory") is None


def test_an_admin_and_a_bootstrap_key_add_users(setup: Setup) -> None:
    body = {"name": "nina", "role": "operator", "password": PASSWORD}
    made = setup.client.post("/api/v1/users", json=body, headers=setup.as_("ada"))
    assert made.status_code == 201 and made.json() == {"name": "nina", "role": "operator", "disabled": False}
    again = setup.client.post("/api/v1/users", json=body | {"name": "noor"}, headers=setup.as_(KEY))
    assert again.status_code == 201
    assert [u["name"] for u in setup.client.get("/api/v1/users", headers=setup.as_(KEY)).json()] == [
        "ada",
        "nina",
        "noor",
        "olga",
        "vera",
    ]


def test_a_bootstrap_key_is_an_admin_named_by_its_id_never_the_key(setup: Setup) -> None:
    assert setup.client.post(CANCEL, json={"reason": "asked"}, headers=setup.as_(KEY)).status_code == 202
    [event] = setup.publisher.published
    assert event.actor == key_actor(KEY) and event.actor.startswith("key:") and KEY not in event.actor


def test_a_disabled_users_token_stops_working_at_once(setup: Setup) -> None:
    assert setup.client.get("/api/v1/orders", headers=setup.as_("olga")).status_code == 200
    disabled = setup.client.post("/api/v1/users/olga/disable", headers=setup.as_("ada"))
    assert disabled.json()["disabled"] is True
    assert setup.client.get("/api/v1/orders", headers=setup.as_("olga")).status_code == 401
    assert setup.client.post(CANCEL, json={"reason": "asked"}, headers=setup.as_("olga")).status_code == 401
    assert setup.publisher.published == []


@pytest.mark.parametrize("credentials", ["", "oms_not-a-token", "not-the-key", KEY + "x"])
def test_anything_else_is_unauthorized(setup: Setup, credentials: str) -> None:
    headers = {"Authorization": f"Bearer {credentials}"} if credentials else {}
    assert setup.client.get("/api/v1/orders", headers=headers).status_code == 401


def test_a_token_is_shown_once_and_kept_only_as_its_hash(setup: Setup) -> None:
    made = setup.client.post("/api/v1/users/vera/tokens", json={"label": "script"}, headers=setup.as_("ada"))
    token = made.json()["token"]
    assert setup.client.get("/api/v1/orders", headers=setup.as_(token)).status_code == 200
    database = Path(setup.store.engine.url.database or "")
    stored = b"".join(path.read_bytes() for path in database.parent.glob(f"{database.name}*"))  # the WAL too
    assert b"oms_users" in stored and token.encode() not in stored
