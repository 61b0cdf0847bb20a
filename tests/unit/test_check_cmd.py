"""`oms check` as a command: how a report is printed, what it needs, and `--watch`'s metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from adapters.audit.report import AuditReport
from adapters.audit.views import read_view_snapshot
from adapters.audit.watch import CheckMetrics, watch
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


async def test_watch_exports_each_run_and_survives_a_failed_one(story: tuple[HandLog, Engine]) -> None:
    log, views = story
    with views.begin() as conn:
        conn.execute(text("UPDATE inventory SET on_hand = 99"))
    reports = [log.audit(read_view_snapshot(views))]
    metrics, stop, seen = CheckMetrics(), asyncio.Event(), []

    async def audit() -> AuditReport:
        if not reports:
            stop.set()
            raise ConnectionError("broker gone")
        return reports.pop()

    runs = await watch(audit, metrics, stop, interval_s=0.01, on_report=seen.append, on_failure=seen.append)
    assert runs == 2 and isinstance(seen[1], ConnectionError)
    exported = metrics.exposition().decode()
    assert 'oms_check_violations{invariant="view_matches_log"} 1.0' in exported
    assert 'oms_check_violations{invariant="stock_bounds"} 0.0' in exported
    assert 'oms_check_runs_total{outcome="failed"} 1.0' in exported
