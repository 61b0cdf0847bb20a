"""Issue 16, items 4 and 7: what `oms` says when the set-up is wrong (a refused setting, a database that does not
answer) and what its help shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner, Result

from adapters.broker import free_port
from adapters.cli import app


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OMS_DATABASE_URL", "OMS_KAFKA_BOOTSTRAP", "OMS_LOG_LEVEL", "OMS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def oms(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


# --- item 4: settings, databases and filters ------------------------------------------------


def test_a_refused_setting_is_two_lines_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_PARTITIONS", "abc")

    result = oms("orders", "list")

    assert result.exit_code == 2
    assert len(lines(result)) <= 2, result.output
    assert "OMS_PARTITIONS='abc' is refused" in result.output
    assert "default (8)" in result.output


def test_a_refused_secret_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("OMS_SMTP_PORT", "0")

    result = oms("orders", "list")

    assert "OMS_SMTP_PORT=0 is refused" in result.output.replace("'", "")
    assert "s3cret" not in result.output


def unreachable_postgres() -> str:
    return f"postgresql+psycopg://oms:hunter2@127.0.0.1:{free_port()}/oms"


def test_an_unreachable_database_is_two_lines_naming_the_url_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    url = unreachable_postgres()
    monkeypatch.setenv("OMS_DATABASE_URL", url)

    result = oms("orders", "list")

    assert result.exit_code == 3
    assert len(lines(result)) <= 2, result.output
    assert "the database did not answer" in result.output
    assert url.replace("hunter2", "***") in result.output and "hunter2" not in result.output
    assert "unset OMS_DATABASE_URL" in result.output


@pytest.mark.parametrize("debug", [["--debug"], ["OMS_LOG_LEVEL=debug"]])
def test_debug_lets_the_traceback_through(debug: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_DATABASE_URL", unreachable_postgres())
    args = ["orders", "list"]
    if debug == ["--debug"]:
        args = ["--debug", *args]
    else:
        monkeypatch.setenv("OMS_LOG_LEVEL", "debug")

    result = oms(*args)

    assert isinstance(result.exception, OperationalError)


# --- item 7: help that says what a command takes ----------------------------------------------


@pytest.mark.parametrize("command", [[], ["orders", "list"], ["demo"], ["check"]])
def test_help_shows_no_value_for_a_flag(command: list[str]) -> None:
    result = oms(*command, "--help")

    assert result.exit_code == 0
    assert "<bool>" not in result.output
    assert "--help" in result.output
