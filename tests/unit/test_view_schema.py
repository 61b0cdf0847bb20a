"""Views written by another schema version are rebuilt from the log, never patched in place."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, create_engine, inspect, select, text

from projections.projector import INVENTORY, ORDERS, prepare_views
from projections.tables import create_tables, tracking, view_schemas
from projections.tracking import record_offsets, tracked_offsets


def test_an_orders_view_of_the_old_layout_is_dropped_with_its_positions_and_inventory_is_kept() -> None:
    engine = create_engine("sqlite://")
    old = MetaData()
    Table("orders", old, Column("order_id", String(64), primary_key=True), Column("paid_amount", String(40)))
    with engine.begin() as conn:
        old.create_all(conn)
        create_tables(conn, INVENTORY.tables)
        conn.execute(view_schemas.insert(), [{"projection": "inventory", "version": INVENTORY.schema_version}])
        conn.execute(old.tables["orders"].insert(), [{"order_id": "o-1", "paid_amount": "9.00"}])
        record_offsets(conn, ORDERS.name, {("oms.orders", 0): 41})
        record_offsets(conn, INVENTORY.name, {("oms.inventory", 0): 7})

    with engine.begin() as conn:
        assert prepare_views(conn, ORDERS) is True
        assert prepare_views(conn, INVENTORY) is False
    with engine.connect() as conn:
        columns = {column["name"] for column in inspect(conn).get_columns("orders")}
        assert {"captured_amount", "balance_due", "parcels"} <= columns and "paid_amount" not in columns
        assert conn.execute(select(ORDERS.tables[0])).all() == []
        assert tracked_offsets(conn, ORDERS.name) == {}  # the runner reads the log from its start
        assert tracked_offsets(conn, INVENTORY.name) == {("oms.inventory", 0): 7}
        versions = dict(conn.execute(select(view_schemas.c.projection, view_schemas.c.version)).all())
    assert versions == {"orders": ORDERS.schema_version, "inventory": INVENTORY.schema_version}

    with engine.begin() as conn:  # the next start finds its own version: nothing is dropped
        record_offsets(conn, ORDERS.name, {("oms.orders", 0): 3})
        assert prepare_views(conn, ORDERS) is False
        assert conn.execute(select(tracking.c.offset).where(tracking.c.projection == ORDERS.name)).scalar() == 3


def test_a_fresh_database_gets_the_tables_and_its_version() -> None:
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        assert prepare_views(conn, ORDERS) is False
        assert {t.name for t in ORDERS.tables} <= set(inspect(conn).get_table_names())


def test_an_index_added_since_the_views_were_made_is_made_without_touching_the_rows() -> None:
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        prepare_views(conn, ORDERS)
        conn.execute(text("DROP INDEX ix_orders_updated_order"))  # as a view made before the index existed
        record_offsets(conn, ORDERS.name, {("oms.orders", 0): 5})
    with engine.begin() as conn:
        assert prepare_views(conn, ORDERS) is False
    with engine.connect() as conn:
        assert "ix_orders_updated_order" in {index["name"] for index in inspect(conn).get_indexes("orders")}
        assert tracked_offsets(conn, ORDERS.name) == {("oms.orders", 0): 5}
