"""`oms check` as a command: how a report is printed, what it needs, and `--watch`'s metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from adapters.audit import log as audit_log
from adapters.audit.report import AuditReport
from adapters.audit.views import read_view_snapshot
from adapters.audit.watch import CheckMetrics, watch
from adapters.cli import app, check_cmd
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


def test_an_audit_that_dies_of_a_cancelled_error_exits_3_not_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """aiokafka's stop() re-raises a cancelled task's CancelledError, which is no Exception: the command must still
    say the audit failed (3), not leave Python's 1, which means violations."""

    async def dies(**_: object) -> AuditReport:
        raise asyncio.CancelledError

    monkeypatch.setattr(check_cmd, "run_audit", dies)
    monkeypatch.setenv("OMS_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("OMS_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 3, result.output
    assert "audit failed" in result.output and "CancelledError" in result.output


async def test_watch_counts_a_cancelled_error_inside_an_audit_as_a_failed_run() -> None:
    metrics, stop, seen = CheckMetrics(), asyncio.Event(), []

    async def audit() -> AuditReport:
        stop.set()
        raise asyncio.CancelledError

    runs = await watch(audit, metrics, stop, interval_s=0.01, on_report=seen.append, on_failure=seen.append)
    assert runs == 1 and isinstance(seen[0], asyncio.CancelledError)
    assert 'oms_check_runs_total{outcome="failed"} 1.0' in metrics.exposition().decode()


async def test_a_watcher_that_is_cancelled_stops() -> None:
    started, stop = asyncio.Event(), asyncio.Event()

    async def audit() -> AuditReport:
        started.set()
        await asyncio.sleep(60)
        raise AssertionError("not reached")

    watcher = asyncio.create_task(
        watch(audit, CheckMetrics(), stop, interval_s=0.01, on_report=print, on_failure=print)
    )
    await started.wait()
    watcher.cancel()
    with pytest.raises(asyncio.CancelledError):
        await watcher


async def test_read_log_starts_no_consumer_when_every_partition_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    ends = {("a.oms.orders", 0): 0, ("a.oms.orders", 1): 0}

    async def end_offsets(*_: object) -> dict[tuple[str, int], int]:
        return ends

    def no_consumer(*_: object, **__: object) -> None:
        raise AssertionError("a consumer was made for an empty log")

    monkeypatch.setattr(audit_log, "log_end_offsets", end_offsets)
    monkeypatch.setattr(audit_log, "AIOKafkaConsumer", no_consumer)
    raw = await audit_log.read_log("127.0.0.1:1", ["a.oms.orders"])
    assert (raw.records, raw.ends) == ([], ends)
