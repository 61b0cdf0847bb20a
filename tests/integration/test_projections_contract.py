"""One contract suite for the views, the tracking and the archive, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from adapters.bench.history import simulated_history
from adapters.sql.engines import drop_schema, engine_for
from events import (
    Event,
    EventData,
    OrderPlaced,
    OrderRequestRefused,
    OrderShipped,
    PaymentRecorded,
    RefundIssued,
    encode,
    topics,
)
from projections import (
    analytics_queries,
    customer_queries,
    desk_reads,
    inventory_queries,
    queries,
    sales_queries,
)
from projections import archive as history
from projections import order_detail_queries as order_detail
from projections.archive import Record
from projections.order_progress import STATUSES
from projections.projector import ARCHIVE, DESK, INVENTORY, ORDERS, Projection, apply_records
from projections.replay import replay
from projections.rows import table_rows
from projections.tables import create_tables
from projections.tracking import tracked_offsets
from tests.integration.refused_records import REFUSED_ORDERS, with_refused_records

PARTITIONS = 4
MakeEngine = Callable[[], Engine]


def as_records(events: Sequence[Event[EventData]], prefix: str = "c.") -> list[Record]:
    """The events as they would sit on the topics: partitioned by key, offsets per partition."""
    next_offset: dict[tuple[str, int], int] = {}
    records = []
    for event in events:
        topic = f"{prefix}{event.data.topic}"
        partition = zlib.crc32(event.subject.encode()) % PARTITIONS
        offset = next_offset.get((topic, partition), 0)
        next_offset[(topic, partition)] = offset + 1
        records.append(Record(topic, partition, offset, event.subject, encode(event)))
    return records


def of_projection(records: Sequence[Record], projection: Projection) -> list[Record]:
    return [r for r in records if r.topic.endswith(projection.topics)]


def build(engine: Engine, projection: Projection, records: Sequence[Record], batch: int = 200) -> None:
    with engine.begin() as conn:
        create_tables(conn, projection.tables)
    mine = of_projection(records, projection)
    for start in range(0, len(mine), batch):
        with engine.begin() as conn:
            apply_records(conn, projection, mine[start : start + batch])


def snapshot(engine: Engine, projection: Projection) -> dict[str, list[dict[str, object]]]:
    with engine.connect() as conn:
        return {table.name: table_rows(conn, table) for table in projection.tables}


@pytest.fixture(scope="module")
def events() -> list[Event[EventData]]:
    return simulated_history(120, seed=11, run="contract")


@pytest.fixture(scope="module")
def records(events: list[Event[EventData]]) -> list[Record]:
    """The history, and records the processors dead-lettered (`tests.integration.refused_records`): every view and
    fold below must be as if these were not on the log."""
    return with_refused_records(as_records(events), events, PARTITIONS)


def _postgres_reachable(url: str) -> bool:
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except OperationalError:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_engine(request: pytest.FixtureRequest, tmp_path, postgres_url: str) -> Iterator[MakeEngine]:  # type: ignore[no-untyped-def]
    """A factory of fresh, empty databases on the backend under test."""
    engines: list[Engine] = []
    schemas: list[str] = []
    if request.param == "postgres" and not _postgres_reachable(postgres_url):
        pytest.skip("PostgreSQL is not reachable")

    def make() -> Engine:
        if request.param == "sqlite":
            engine = engine_for(f"sqlite:///{tmp_path / f'db{len(engines)}.sqlite3'}")
        else:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            schemas.append(schema)
            engine = engine_for(postgres_url, schema=schema)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()
    for schema in schemas:
        drop_schema(postgres_url, schema)


def test_views_fold_the_history(make_engine: MakeEngine, events, records) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine()
    build(engine, ORDERS, records)
    build(engine, INVENTORY, records)
    placed = {e.subject: e.data for e in events if e.type == "oms.order.placed"}
    with engine.connect() as conn:
        orders = queries.list_orders(conn, limit=1000)
        assert len(orders) == len(placed) == queries.count_orders(conn)
        assert [order_id for order_id in REFUSED_ORDERS if order_detail.get_order(conn, order_id)] == []
        assert {o["status"] for o in orders} <= set(STATUSES)
        shipped = order_detail.get_order(conn, next(o["order_id"] for o in orders if o["status"] == "delivered"))
        assert shipped is not None and shipped["tracking_number"] and shipped["carrier"] == "simship"
        types = [step["type"] for step in shipped["timeline"]]
        assert types[0] == "oms.order.placed" and "oms.order.delivered" in types
        assert len(types) == len({step["event_id"] for step in shipped["timeline"]}), "no duplicates"

        customers = customer_queries.list_customers(conn, limit=1000)
        assert sum(c["orders_count"] for c in customers) == len(placed)
        walk_ins = {o for o, data in placed.items() if data.customer.email is None}
        assert walk_ins and {c["customer_key"] for c in customers if c["anonymous"]} == {
            f"walk-in:{o}" for o in walk_ins
        }
        assert_money_and_parcels_follow_the_decisions(conn, events)
        units = sum(line.qty for data in placed.values() for line in data.lines)
        assert sum(row["units"] for row in sales_queries.sales(conn, limit=1000)) == units

        for sku in {e.subject for e in events if e.data.topic == topics.INVENTORY}:
            row = inventory_queries.get_sku(conn, sku)
            assert row is not None
            assert (row["on_hand"], row["reserved"]) == independent_stock_fold(events, sku)
            assert row["available"] == row["on_hand"] - row["reserved"] >= 0
        rates = analytics_queries.rates(conn)
        assert rates["orders"] == len(placed) and 0 < rates["fill_rate"] <= 1
        times = analytics_queries.processing_times(conn)
        assert any(day["placed_to_delivered"]["count"] for day in times)


def assert_money_and_parcels_follow_the_decisions(conn: Connection, events: Sequence[Event[EventData]]) -> None:
    """Captured and refunded per order, each parcel's tracking number and each refused request, from the log."""
    distinct = list({event.id: event for event in events}.values())
    captured: dict[str, Decimal] = defaultdict(Decimal)
    refunded: dict[str, Decimal] = defaultdict(Decimal)
    for event in distinct:
        data = event.data
        if isinstance(data, OrderPlaced) and data.payment_status == "paid":
            captured[event.subject] += data.total()
        elif isinstance(data, PaymentRecorded):
            captured[event.subject] += data.amount  # one report per payment in the simulation
        elif isinstance(data, RefundIssued):
            refunded[event.subject] += data.amount
    orders = {o["order_id"]: o for o in queries.list_orders(conn, limit=1000)}
    assert {o: Decimal(row["captured_amount"]) for o, row in orders.items() if o in captured} == dict(captured)
    assert {o: Decimal(row["refunded_amount"]) for o, row in orders.items() if o in refunded} == dict(refunded)
    assert {"partially_delivered", "partially_returned", "completed", "returned"} <= {
        o["status"] for o in orders.values()
    }
    for event in distinct:
        if isinstance(event.data, OrderShipped):
            detail = order_detail.get_order(conn, event.subject)
            assert detail is not None
            [parcel] = [p for p in detail["parcels"] if p["shipment_id"] == event.data.shipment_id]
            assert parcel["tracking_number"] == event.data.tracking_number
    refusals = {e.data.refused_event_id: e.data.code for e in distinct if isinstance(e.data, OrderRequestRefused)}
    marked = [step for o in orders for step in order_detail.order_events(conn, o) if step["refusal_code"]]
    assert refusals and {step["event_id"]: step["refusal_code"] for step in marked} == refusals


def independent_stock_fold(events: Sequence[Event[EventData]], sku: str) -> tuple[int, int]:
    """The docs' definition of on hand and reserved, written again here, over distinct event ids."""
    on_hand = reserved = 0
    seen = set()
    for event in events:
        if event.subject != sku or event.data.topic != topics.INVENTORY or event.id in seen:
            continue
        seen.add(event.id)
        data = event.data
        match event.type:
            case "oms.stock.received" | "oms.stock.returned":
                on_hand += data.qty  # type: ignore[attr-defined]
            case "oms.stock.adjusted":
                on_hand += data.delta  # type: ignore[attr-defined]
            case "oms.stock.reserved":
                reserved += data.qty  # type: ignore[attr-defined]
            case "oms.stock.released" if data.was_reserved:  # type: ignore[attr-defined]
                reserved -= data.qty  # type: ignore[attr-defined]
            case "oms.stock.committed":
                on_hand -= data.qty  # type: ignore[attr-defined]
                reserved -= data.qty  # type: ignore[attr-defined]
    return on_hand, reserved


def test_redelivered_batches_and_batch_sizes_change_nothing(make_engine: MakeEngine, records) -> None:  # type: ignore[no-untyped-def]
    once, twice = make_engine(), make_engine()
    for projection in (ORDERS, INVENTORY):
        build(once, projection, records, batch=500)
        build(twice, projection, records, batch=37)
        build(twice, projection, records, batch=101)  # the whole log again: every record already tracked
    for projection in (ORDERS, INVENTORY):
        assert snapshot(once, projection) == snapshot(twice, projection)
    with twice.connect() as conn:
        positions = tracked_offsets(conn, ORDERS.name)
    expected: dict[tuple[str, int], int] = {}
    for r in of_projection(records, ORDERS):
        expected[(r.topic, r.partition)] = max(expected.get((r.topic, r.partition), -1), r.offset)
    assert positions == expected


def test_a_failed_transaction_leaves_views_and_positions_untouched(make_engine: MakeEngine, records) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine()
    mine = of_projection(records, INVENTORY)
    build(engine, INVENTORY, mine[:50])
    before = snapshot(engine, INVENTORY)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        apply_records(conn, INVENTORY, mine[50:120])
        raise RuntimeError("crash before commit")
    assert snapshot(engine, INVENTORY) == before
    build(engine, INVENTORY, mine)
    clean = make_engine()
    build(clean, INVENTORY, mine)
    assert snapshot(engine, INVENTORY) == snapshot(clean, INVENTORY)


def test_archive_replays_into_equal_views_and_answers_point_in_time(make_engine: MakeEngine, events, records) -> None:  # type: ignore[no-untyped-def]
    live, store = make_engine(), make_engine()
    for projection in (ORDERS, INVENTORY):
        build(live, projection, records, batch=64)
    build(store, ARCHIVE, records, batch=300)
    build(store, ARCHIVE, records, batch=300)  # redelivered to the archiver: stored once
    with store.connect() as conn:
        assert history.count(conn) == len(records)
        for projection in (ORDERS, INVENTORY):
            fresh = make_engine()
            result = replay(conn, fresh, projection, batch=250)
            assert result.events == len(of_projection(records, projection))
            assert snapshot(fresh, projection) == snapshot(live, projection)

        sku = events[0].subject
        stock_events = [e for e in events if e.subject == sku and e.data.topic == topics.INVENTORY]
        middle = stock_events[len(stock_events) // 2].time
        at = history.stock_at(conn, sku, middle)
        assert (at["on_hand"], at["reserved"]) == independent_stock_fold([e for e in events if e.time <= middle], sku)
        now = history.stock_at(conn, sku)
        with live.connect() as views:
            assert {k: now[k] for k in ("on_hand", "reserved", "available")} == {
                k: inventory_queries.get_sku(views, sku)[k]  # type: ignore[index]
                for k in ("on_hand", "reserved", "available")
            }

        # an order shipped in one parcel: the first to leave was the whole of it
        order = next(
            e
            for e in events
            if isinstance(e.data, OrderShipped) and e.data.complete and e.data.shipment_id[-3:] == "-S1"
        )
        placed = next(e for e in events if e.subject == order.subject and e.type == "oms.order.placed")
        assert history.order_at(conn, order.subject, placed.time - timedelta(seconds=1)) is None
        assert history.order_at(conn, order.subject, order.time - timedelta(microseconds=1))["status"] != "shipped"  # type: ignore[index]
        assert history.order_at(conn, order.subject, order.time)["status"] == "shipped"  # type: ignore[index]
        assert history.history_of(conn, order.subject)[0]["type"] == "oms.order.placed"


def test_queries_filter_and_paginate(make_engine: MakeEngine, records) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine()
    build(engine, ORDERS, records)
    build(engine, INVENTORY, records)
    with engine.connect() as conn:
        everything = queries.list_orders(conn, limit=1000)
        pages = [queries.list_orders(conn, limit=25, offset=n) for n in range(0, len(everything), 25)]
        assert [o["order_id"] for page in pages for o in page] == [o["order_id"] for o in everything]
        delivered = queries.list_orders(conn, status="delivered", limit=1000)
        assert delivered and all(o["status"] == "delivered" for o in delivered)
        web = queries.list_orders(conn, channel="web", limit=1000)
        assert len(web) == queries.count_orders(conn, channel="web")
        some = everything[len(everything) // 2]
        mine = queries.list_orders(conn, customer=some["customer_email"], limit=1000)
        assert some["order_id"] in {o["order_id"] for o in mine}
        window = queries.list_orders(conn, placed_from=some["placed_at"], placed_to=some["placed_at"] + timedelta(1))
        assert window and all(some["placed_at"] <= o["placed_at"] for o in window)
        customer = customer_queries.get_customer(conn, some["customer_key"])
        assert customer is not None and customer["recent_orders"]
        assert inventory_queries.list_inventory(conn, limit=3) == inventory_queries.list_inventory(conn, limit=1000)[:3]
        report = inventory_queries.inventory_report(conn)
        assert report["available"] == report["on_hand"] - report["reserved"]
        assert order_detail.get_order(conn, "nope") is None and inventory_queries.get_sku(conn, "nope") is None


def test_the_desk_is_the_same_on_every_backend_whatever_the_batches_and_the_replay_order(
    make_engine: MakeEngine, records
) -> None:  # type: ignore[no-untyped-def]
    live, replayed = make_engine(), make_engine()
    build(live, DESK, records, batch=500)
    build(live, DESK, records, batch=61)  # redelivered: every record already tracked
    archive_order = sorted(records, key=lambda r: (r.topic, r.partition, r.offset))  # dead letters first
    build(replayed, DESK, archive_order, batch=37)
    assert snapshot(live, DESK) == snapshot(replayed, DESK)
    letters = [r for r in records if r.topic.endswith(topics.DEADLETTER)]
    with live.connect() as conn:
        items, total = desk_reads.list_items(conn, category=None, limit=500)
        by_reason = desk_reads.dead_letters_by_reason(conn)
    assert sum(by_reason.values()) == len(letters) > 0
    assert total >= len(letters) and {item.status for item in items} <= set(desk_reads.STATUSES)
