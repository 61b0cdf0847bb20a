"""Issue 16, items 3, 4 and 7: what `oms` says when the set-up is wrong (a data folder without views, a refused
setting, a database that does not answer, a filter no order can match) and what its help shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner, Result

from adapters.cli import app
from adapters.kafka.broker import free_port
from projections.order_progress import STATUSES
from projections.projector import PROJECTIONS, VIEWS


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OMS_DATABASE_URL", "OMS_KAFKA_BOOTSTRAP", "OMS_LOG_LEVEL", "OMS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def oms(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


# --- item 3: a data folder without views ----------------------------------------------------


@pytest.mark.parametrize(
    "command", [["orders", "list"], ["orders", "show", "WEB-1"], ["inventory", "list"], ["inventory", "show", "MUG"]]
)
def test_a_read_command_refuses_a_folder_without_views_and_creates_nothing(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = tmp_path / "typo-data"
    monkeypatch.setenv("OMS_DATA_DIR", str(wrong))

    result = oms(*command)

    assert result.exit_code == 2, result.output
    assert f"no views at {wrong / 'oms.sqlite3'}" in result.output
    assert "OMS_DATA_DIR" in result.output
    assert not wrong.exists(), "a read command created the data folder"


def test_an_unset_data_folder_is_named_as_unset_and_not_created(tmp_path: Path) -> None:
    result = oms("orders", "list")

    assert result.exit_code == 2
    assert f"no views at {tmp_path / 'oms-data' / 'oms.sqlite3'} (OMS_DATA_DIR unset)" in result.output
    assert not (tmp_path / "oms-data").exists()


@pytest.mark.parametrize("command", [["history", "WEB-1"], ["export", "--out", "x.parquet"], ["replay", "orders"]])
def test_archive_reads_refuse_a_folder_without_an_archive(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_DATA_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()

    result = oms(*command)

    assert result.exit_code == 2, result.output
    assert "no history archive at" in result.output
    assert not (tmp_path / "empty" / "history.sqlite3").exists()


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


def test_an_unknown_status_is_refused_with_the_statuses_there_are(tmp_path: Path) -> None:
    result = oms("orders", "list", "--status", "bogus")

    assert result.exit_code == 2
    assert "'bogus' is not one of" in result.output
    assert all(status in result.output for status in STATUSES)


def test_an_unreachable_kafka_is_two_lines_naming_the_address(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("OMS_KAFKA_BOOTSTRAP", address)
    monkeypatch.setenv("OMS_DATA_DIR", str(tmp_path))

    result = oms("project", "--until-caught-up")

    assert result.exit_code == 3, result.output
    assert "Kafka did not answer" in result.output
    assert f"OMS_KAFKA_BOOTSTRAP={address}" in result.output


# --- item 7: help that says what a command takes ----------------------------------------------


@pytest.mark.parametrize("command", [[], ["orders", "list"], ["demo"], ["replay"], ["check"]])
def test_help_shows_no_value_for_a_flag(command: list[str]) -> None:
    result = oms(*command, "--help")

    assert result.exit_code == 0
    assert "<bool>" not in result.output
    assert "--help" in result.output


def test_replay_accepts_what_its_help_lists_and_its_error_lists_the_same() -> None:
    accepted = {*VIEWS, *PROJECTIONS, "all"}

    shown = oms("replay", "--help").output
    refused = oms("replay", "bogus")

    assert refused.exit_code == 2
    assert all(name in shown for name in accepted), shown
    assert all(f"'{name}'" in refused.output for name in accepted), refused.output
