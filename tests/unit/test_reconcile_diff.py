"""The row-by-row comparison of a live view with its shadow: missing, extra and changed fields, nothing ignored."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine

from projections.reconcile import Difference, ViewSnapshot, read_snapshot, row_differences, view_differences
from projections.tables import create_tables, inventory, sales_daily
from projections.tracking import record_offsets

WHEN = datetime(2026, 1, 5, 8, tzinfo=UTC)


def order(order_id: str, **fields: object) -> dict[str, object]:
    return {"order_id": order_id, "status": "confirmed", "lines": [{"sku": "MUG", "qty": 1}], **fields}


def test_equal_rows_make_no_difference() -> None:
    rows = [order("o-1"), order("o-2", updated_at=WHEN)]
    assert row_differences("orders", ["order_id"], rows, [dict(row) for row in reversed(rows)]) == []


def test_a_row_only_the_shadow_has_is_missing_and_one_only_the_live_view_has_is_extra() -> None:
    found = row_differences("orders", ["order_id"], [order("o-1"), order("o-3")], [order("o-1"), order("o-2")])
    assert found == [
        Difference("orders", {"order_id": "o-2"}, "missing"),
        Difference("orders", {"order_id": "o-3"}, "extra"),
    ]


def test_a_changed_row_is_reported_field_by_field_with_both_values() -> None:
    two = [{"sku": "MUG", "qty": 2}]
    found = row_differences("orders", ["order_id"], [order("o-1", status="cancelled", lines=two)], [order("o-1")])
    assert found == [
        Difference("orders", {"order_id": "o-1"}, "changed", "lines", two, [{"sku": "MUG", "qty": 1}]),
        Difference("orders", {"order_id": "o-1"}, "changed", "status", "cancelled", "confirmed"),
    ]
    assert found[1].describe() == "orders [order_id=o-1] changed status: live 'cancelled', shadow 'confirmed'"


def test_no_column_is_ignored_not_even_a_time_stamp() -> None:
    later = WHEN.replace(hour=9)
    found = row_differences("orders", ["order_id"], [order("o-1", updated_at=later)], [order("o-1", updated_at=WHEN)])
    assert [(d.kind, d.column) for d in found] == [("changed", "updated_at")]


def test_a_column_one_side_lacks_counts_as_changed() -> None:
    found = row_differences("orders", ["order_id"], [order("o-1", carrier="dhl")], [order("o-1")])
    assert [(d.column, d.live, d.shadow) for d in found] == [("carrier", "dhl", None)]


def test_tables_are_compared_on_their_composite_primary_keys() -> None:
    day = {"day": WHEN.date(), "channel": "web", "sku": "MUG", "currency": "EUR", "orders": 1, "units": 1}
    live = ViewSnapshot({}, {"sales_daily": [{**day, "revenue": "9.00"}], "inventory": []})
    shadow = ViewSnapshot({}, {"sales_daily": [{**day, "revenue": "9.50"}], "inventory": [{"sku": "MUG"}]})
    found = view_differences([sales_daily, inventory], live, shadow)
    assert [(d.table, dict(d.key), d.kind, d.column) for d in found] == [
        ("sales_daily", {"day": WHEN.date(), "channel": "web", "sku": "MUG", "currency": "EUR"}, "changed", "revenue"),
        ("inventory", {"sku": "MUG"}, "missing", None),
    ]


def test_a_snapshot_holds_the_rows_and_the_positions_of_its_projection_only() -> None:
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        create_tables(conn, [inventory])
        record_offsets(conn, "inventory", {("oms.inventory", 0): 41})
        record_offsets(conn, "orders", {("oms.orders", 0): 7})
        stock = {"sku": "MUG", "on_hand": 3, "reserved": 0, "available": 3, "incoming": [], "incoming_qty": 0}
        stock |= {"backorders": [], "backordered_qty": 0, "is_low": False, "suggested_reorder_qty": 0}
        conn.execute(inventory.insert(), [stock])
        snapshot = read_snapshot(conn, "inventory", [inventory])
    assert snapshot.positions == {("oms.inventory", 0): 41}
    assert [row["sku"] for row in snapshot.tables["inventory"]] == ["MUG"]
