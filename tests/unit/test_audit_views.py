"""`oms check`'s sixth invariant on real SQLite views: every row equals the fold of the log at the positions the
views have consumed."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, text

from adapters.audit.views import read_view_snapshot, snapshot_connection
from adapters.sql.engines import engine_for
from events import OrderConfirmed
from tests.unit.audit_support import HandLog, clean_story, kinds, placed, then, views_of


@pytest.fixture
def story(tmp_path: Path) -> tuple[HandLog, Engine]:
    log = HandLog()
    clean_story(log)
    return log, views_of(log, tmp_path / "views.sqlite3")


def test_views_that_equal_the_fold_of_the_log_are_clean(story: tuple[HandLog, Engine]) -> None:
    log, views = story
    report = log.audit(read_view_snapshot(views))
    assert report.is_clean, [violation.message for violation in report.violations]
    assert not report.notes


def test_a_view_row_edited_by_hand_is_reported_with_the_events_behind_it(story: tuple[HandLog, Engine]) -> None:
    log, views = story
    with views.begin() as conn:
        conn.execute(text("UPDATE inventory SET on_hand = 99 WHERE sku = 'MUG'"))

    report = log.audit(read_view_snapshot(views))
    assert kinds(report) == [("view_matches_log", "inventory MUG")]
    violation = report.violations[0]
    assert violation.details == {"on_hand": {"view": 99, "log": 4}}
    assert all(e.topic == "a.oms.inventory" for e in violation.evidence)
    assert violation.evidence[-1].type == "oms.stock.released"


def test_missing_and_edited_order_rows_are_reported(story: tuple[HandLog, Engine]) -> None:
    log, views = story
    with views.begin() as conn:
        conn.execute(text("DELETE FROM orders WHERE order_id = 'o-2'"))
        conn.execute(text("UPDATE order_timeline SET summary = 'edited' WHERE type = 'oms.order.confirmed'"))

    report = log.audit(read_view_snapshot(views))
    by_subject = {violation.subject.split(" ")[0]: violation for violation in report.violations}
    assert set(by_subject) == {"orders", "order_timeline"}
    assert "in the log's fold, not in the view" in by_subject["orders"].message
    assert {e.fields.get("order_id") for e in by_subject["orders"].evidence} == {"o-2"}
    [confirmed] = by_subject["order_timeline"].evidence
    assert confirmed.type == "oms.order.confirmed"
    orjson.dumps(report.as_dict())  # every value of a differing row is JSON


def test_events_the_views_have_not_consumed_yet_are_not_a_difference(story: tuple[HandLog, Engine]) -> None:
    log, views = story
    later = log.add(placed("o-3", {"MUG": 1}, minutes=20))
    log.add(then(later, "confirmed", OrderConfirmed(order_id="o-3", skus=("MUG",))))
    assert log.audit(read_view_snapshot(views)).is_clean


def test_the_snapshot_keeps_what_it_read_while_a_projector_commits(story: tuple[HandLog, Engine]) -> None:
    _, views = story
    writer = engine_for(str(views.url))
    with snapshot_connection(views) as conn:
        before = conn.execute(text("SELECT on_hand FROM inventory")).scalar_one()
        with writer.begin() as other:
            other.execute(text("UPDATE inventory SET on_hand = on_hand + 1"))
        assert conn.execute(text("SELECT on_hand FROM inventory")).scalar_one() == before
    writer.dispose()
