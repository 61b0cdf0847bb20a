"""`oms orders show`: the ledger (captured, refunded, balance) and each parcel, as tables and as JSON; reads never
create the views."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from adapters.cli import app
from adapters.sql.engines import engine_for
from events import DeadLetterRecorded, Event, EventData, encode, new_event
from pipeline.rules.orders import payment_expired
from projections.archive import Record
from projections.projector import INVENTORY, ORDERS, apply_records, prepare_views
from tests.unit.rules_support import at, paid, placed, reserved
from tests.unit.test_api_order_ledger import split_order_story
from tests.unit.view_support import Story


@pytest.fixture
def views(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "views.sqlite3"
    monkeypatch.setenv("OMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OMS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("COLUMNS", "200")
    return path


def build(path: Path, story: Story) -> None:
    engine = engine_for(f"sqlite:///{path}")
    with engine.begin() as conn:
        prepare_views(conn, INVENTORY)
    story.project(engine)
    engine.dispose()


def show(*args: str) -> str:
    result = CliRunner().invoke(app, ["orders", "show", *args])
    assert result.exit_code == 0, result.output
    return result.output


def with_a_late_payment(story: Story) -> Story:
    """`story`, and an order that timed out and was then paid (the payment goes back)."""
    story.then(placed("o-late", {"MUG-1": 1}, paid=False), reserved("o-late", "MUG-1", 1))
    return story.then(payment_expired(story.state("o-late"), at(days=1)), paid("o-late", "10.00", payment_id="p-9"))


def test_the_tables_show_the_ledger_each_payment_each_parcel_and_the_refusal(views: Path) -> None:
    build(views, with_a_late_payment(split_order_story()))
    out = show("o-api")
    assert "partially_delivered" in out and "ledger (paid)" in out
    assert "captured" in out and "balance due" in out and "20.00" in out
    assert "p-1" in out and "p-2" in out
    assert "o-api-S1" in out and "T-ONE" in out and "delivered" in out
    assert "o-api-S2" in out and "T-TWO" in out and "dispatched" in out
    assert "REFUSED not_returnable" in out
    late = show("o-late")
    assert "ledger (refunded)" in late and "late_payment" in late and "p-9" in late


def test_json_is_the_apis_order_detail(views: Path) -> None:
    build(views, with_a_late_payment(split_order_story()))
    order = orjson.loads(show("o-api", "--json"))
    assert (order["captured_amount"], order["refunded_amount"], order["balance_due"]) == ("20.00", "0.00", "0.00")
    assert [(p["tracking_number"], p["status"]) for p in order["parcels"]] == [
        ("T-ONE", "delivered"),
        ("T-TWO", "dispatched"),
    ]
    assert [e["refusal_code"] for e in order["timeline"] if e["refused"]] == ["not_returnable"]
    late = orjson.loads(show("o-late", "--json"))
    assert (late["status"], late["payment_status"], late["refunded_amount"]) == ("cancelled", "refunded", "10.00")


def test_reading_before_any_projection_creates_nothing(views: Path) -> None:
    result = CliRunner().invoke(app, ["orders", "show", "o-api"])
    assert result.exit_code == 2 and "oms project" in result.output, "refused as a set-up error (issue 16)"
    engine = engine_for(f"sqlite:///{views}")
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_a_placement_the_order_processor_dead_lettered_is_no_order_and_says_why(views: Path) -> None:
    order = placed("o-refused", {"MUG-1": 1})
    records = [
        Record("oms.orders", 1, 0, "not-its-key", encode(order)),
        Record("oms.deadletter", 0, 0, "not-its-key", encode(dead_letter_of(order))),
    ]
    engine = engine_for(f"sqlite:///{views}")
    with engine.begin() as conn:
        prepare_views(conn, ORDERS)
        prepare_views(conn, INVENTORY)
        apply_records(conn, ORDERS, records)
    engine.dispose()
    result = CliRunner().invoke(app, ["orders", "show", "o-refused"])
    assert result.exit_code == 1
    assert "no order o-refused" in result.output
    assert "dead-lettered (wrong_key): the record's key is 'not-its-key'" in result.output


def dead_letter_of(order: Event[EventData]) -> Event[EventData]:
    letter = DeadLetterRecorded(
        original_key="not-its-key",
        source_topic="oms.orders",
        source_partition=1,
        source_offset=0,
        processor="orders",
        kind="wrong_key",
        reason="the record's key is 'not-its-key'; oms.order.placed must be keyed by 'o-refused'",
        original=base64.b64encode(encode(order)).decode(),
    )
    return new_event(letter, source="oms.pipeline.orders")
