"""The dashboard with named accounts: log-in by user name and password, roles on every action, sessions that end
at once when an account is disabled or revoked, and failed log-ins limited per account and per client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.http.api import create_app
from adapters.http.api.ratelimit import TokenBucketLimiter
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.credentials import Role
from adapters.sql.users import UserStore
from tests.unit.test_dashboard_pages import NOW, csrf_of, read_model

KEY = "bootstrap-key-1"
PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    client: TestClient
    publisher: RecordingPublisher
    store: UserStore
    clock: Clock

    def log_in(self, name: str, password: str = PASSWORD) -> int:
        response = self.client.post("/dashboard/login", data={"username": name, "password": password})
        return response.status_code

    def cancel(self, order_id: str = "SHOP-2") -> int:
        form = self.client.get(f"/dashboard/orders/{order_id}").text
        data = {"reason": "customer asked", "csrf": csrf_of(form), "nonce": "n1"}
        return self.client.post(f"/dashboard/orders/{order_id}/cancel", data=data).status_code


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    settings = Settings(data_dir=tmp_path, api_keys=KEY)
    store = UserStore.from_url(settings.views_url)
    for name, role in (("vera", Role.VIEWER), ("olga", Role.OPERATOR), ("otto", Role.OPERATOR), ("ada", Role.ADMIN)):
        store.add(name, role, PASSWORD)
    clock, publisher = Clock(), RecordingPublisher()
    app = create_app(
        settings,
        publisher,
        read_model=read_model(),
        clock=lambda: NOW,
        login_limiter=TokenBucketLimiter(burst=30, per_second=0.1, clock=clock),
        account_limiter=TokenBucketLimiter(burst=5, per_second=1 / 30, clock=clock),
    )
    with TestClient(app, follow_redirects=False) as client:
        yield Setup(client, publisher, store, clock)


def test_a_user_logs_in_with_a_user_name_and_password(setup: Setup) -> None:
    assert setup.log_in("olga", "wrong password") == 401
    assert setup.client.get("/dashboard").status_code == 303
    assert setup.log_in("nobody") == 401
    assert setup.log_in("olga") == 303
    assert setup.client.get("/dashboard").status_code == 200


def test_a_viewer_sees_the_pages_but_cannot_cancel(setup: Setup) -> None:
    assert setup.log_in("vera") == 303
    assert setup.client.get("/dashboard/orders/SHOP-2").status_code == 200
    assert setup.cancel() == 403
    assert setup.client.get("/dashboard/webhooks").status_code == 403
    assert setup.publisher.published == []


def test_an_operators_cancellation_names_the_operator(setup: Setup) -> None:
    assert setup.log_in("olga") == 303
    assert setup.cancel() == 303
    [event] = setup.publisher.of_type("oms.order.cancel_requested")
    assert event.actor == "olga"
    assert setup.client.get("/dashboard/webhooks").status_code == 403  # webhooks are an admin's


def test_a_bootstrap_key_still_logs_in_as_an_admin(setup: Setup) -> None:
    assert setup.client.post("/dashboard/login", data={"key": KEY}).status_code == 303
    assert setup.client.get("/dashboard/webhooks").status_code == 200
    setup.client.cookies.clear()
    assert setup.log_in("", KEY) == 303  # the new form: no user name, the key as the password
    assert setup.cancel() == 303
    assert setup.publisher.published[0].actor.startswith("key:")


def test_disabling_a_user_ends_their_session_at_once(setup: Setup) -> None:
    assert setup.log_in("olga") == 303
    assert setup.client.get("/dashboard").status_code == 200
    setup.store.set_disabled("olga", True)
    assert setup.client.get("/dashboard").status_code == 303
    assert setup.log_in("olga") == 401


def test_revoking_sessions_ends_them_and_a_new_log_in_works(setup: Setup) -> None:
    assert setup.log_in("olga") == 303
    old = setup.client.cookies.get("oms_dashboard")
    setup.store.revoke_sessions("olga")
    assert setup.client.get("/dashboard").status_code == 303
    assert setup.log_in("olga") == 303 and setup.client.cookies.get("oms_dashboard") != old
    assert setup.client.get("/dashboard").status_code == 200


def test_a_role_change_applies_at_the_next_request(setup: Setup) -> None:
    assert setup.log_in("olga") == 303
    setup.store.set_role("olga", Role.VIEWER)
    assert setup.cancel() == 403


def test_ten_bad_passwords_for_one_account_do_not_block_a_colleague_at_the_same_address(setup: Setup) -> None:
    statuses = [setup.log_in("olga", f"guess number {n}") for n in range(10)]
    assert statuses == [401] * 5 + [429] * 5  # the account's bucket: five tries, then a pause
    assert setup.log_in("olga") == 429  # even the right password waits while the account is paused
    assert setup.log_in("otto") == 303  # a colleague from the same address is not held up


def test_the_accounts_owner_is_paused_only_briefly(setup: Setup) -> None:
    for n in range(10):
        setup.log_in("olga", f"guess number {n}")
    setup.clock.now += 31
    assert setup.log_in("olga") == 303


def test_one_address_guessing_many_accounts_is_limited_too(setup: Setup) -> None:
    names = [f"user{n}" for n in range(30)]
    assert {setup.log_in(name, "guess") for name in names} == {401}
    assert setup.log_in("otto") == 429  # the client's bucket is empty: guessing across accounts stops here
