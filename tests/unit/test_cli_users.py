"""`oms users`: accounts from the command line, a password never echoed, a token printed once."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import app
from adapters.settings import Settings
from adapters.sql.users import UserStore

PASSWORD = "a long enough password"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> UserStore:
    monkeypatch.setenv("OMS_DATA_DIR", str(tmp_path))
    return UserStore.from_url(Settings().views_url)


def oms(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["users", *args], input=stdin)
    return result.exit_code, result.output


def test_add_asks_for_the_password_twice_unechoed_and_list_shows_no_secret(store: UserStore) -> None:
    code, out = oms("add", "olga", "--role", "operator", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0 and "added olga (operator)" in out and PASSWORD not in out
    assert store.authenticate("olga", PASSWORD) is not None
    code, listed = oms("list")
    assert code == 0 and "olga" in listed and "operator" in listed and "$argon2" not in listed


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("add", "Olga!", "--role", "viewer", "--password", PASSWORD), "user name"),
        (("add", "olga", "--role", "boss", "--password", PASSWORD), "role must be"),
        (("add", "olga", "--role", "viewer", "--password", "short"), "at least 10"),
        (("disable", "nobody"), "no user nobody"),
    ],
)
def test_what_cannot_work_is_refused_with_the_reason(store: UserStore, args: tuple[str, ...], complaint: str) -> None:
    code, out = oms(*args)
    assert code != 0 and complaint in out


def test_a_second_user_of_the_same_name_is_refused(store: UserStore) -> None:
    assert oms("add", "olga", "--role", "viewer", "--password", PASSWORD)[0] == 0
    code, out = oms("add", "olga", "--role", "admin", "--password", PASSWORD)
    assert code != 0 and "already" in out


def test_disable_reset_and_revoke_end_sessions_and_tokens(store: UserStore) -> None:
    oms("add", "olga", "--role", "operator", "--password", PASSWORD)
    token = oms("token", "olga")[1].split()[-1]
    generation = store.get("olga").session_generation  # type: ignore[union-attr]
    assert store.user_for_token(token) is not None
    assert oms("disable", "olga")[0] == 0
    assert store.user_for_token(token) is None and store.authenticate("olga", PASSWORD) is None
    assert oms("enable", "olga")[0] == 0 and store.user_for_token(token) is not None
    assert oms("reset", "olga", "--password", PASSWORD + "!")[0] == 0
    assert store.authenticate("olga", PASSWORD) is None and store.authenticate("olga", PASSWORD + "!") is not None
    assert oms("revoke", "olga", "--tokens")[0] == 0
    assert store.user_for_token(token) is None
    assert store.get("olga").session_generation == generation + 4  # type: ignore[union-attr]
