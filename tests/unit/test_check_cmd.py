"""`oms check` as a command: how a report is printed, and what it needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from adapters.audit.views import read_view_snapshot
from adapters.cli import app
from adapters.cli.check_cmd import console, print_report
from tests.unit.audit_support import TOPICS, HandLog, clean_story, views_of


@pytest.fixture
def story(tmp_path: Path) -> tuple[HandLog, Engine]:
    log = HandLog()
    clean_story(log)
    return log, views_of(log, tmp_path / "views.sqlite3")


def test_the_report_shows_each_violation_with_its_evidence(
    story: tuple[HandLog, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, views = story
    monkeypatch.setattr(console, "width", 400)
    with views.begin() as conn:
        conn.execute(text("UPDATE inventory SET reserved = 3 WHERE sku = 'MUG'"))
    report = log.audit(read_view_snapshot(views))
    with console.capture() as captured:
        print_report(report, TOPICS, limit=5)
    shown = captured.get()
    assert "view_matches_log" in shown and "reserved: view 3, log 0" in shown
    assert str(report.violations[0].evidence[-1].event_id) in shown
    assert "1 violations" in shown


def test_check_without_kafka_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMS_KAFKA_BOOTSTRAP", raising=False)
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 2 and "OMS_KAFKA_BOOTSTRAP" in result.output
