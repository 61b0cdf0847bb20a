"""`SqlReadModel` over SQLite views built by the real projections, read through the real FastAPI app."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from adapters.http.api import create_app
from adapters.http.api.sql_read_model import SqlReadModel
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from events import (
    Customer,
    Event,
    EventData,
    OrderCancelled,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    OrderShipped,
    StockIncomingScheduled,
    StockReceived,
    StockReorderPolicySet,
    StockReservationFailed,
    StockReserved,
    encode,
    new_event,
)
from projections import order_detail_queries
from projections.archive import Record
from projections.projector import INVENTORY, ORDERS, apply_records
from projections.tables import create_tables

KEY = "ops-key-1"
OPS = {"Authorization": f"Bearer {KEY}"}
DAY1 = datetime(2026, 1, 10, 10, 0, tzinfo=UTC)
DAY2 = datetime(2026, 1, 11, 15, 30, tzinfo=UTC)
ETA = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)


def on(data: EventData) -> Event[EventData]:
    return new_event(data, source="tests")


def placed(
    order_id: str, channel: str, email: str, lines: dict[str, tuple[int, str]], at: datetime
) -> Event[EventData]:
    return on(
        OrderPlaced(
            order_id=order_id,
            channel=channel,
            external_ref=f"#{order_id.upper()}",
            customer=Customer(email=email, name=email.split("@")[0].title()),
            lines=tuple(OrderLine(sku=sku, qty=qty, unit_price=Decimal(price)) for sku, (qty, price) in lines.items()),
            currency="EUR",
            payment_status="paid",
            placed_at=at,
        )
    )


def history() -> list[Event[EventData]]:
    """o-1 ships, o-2 is cancelled, o-3 waits for mugs (backordered)."""
    return [
        on(StockReceived(sku="TEE", qty=10)),
        on(StockReceived(sku="MUG", qty=1)),
        on(StockReorderPolicySet(sku="MUG", reorder_point=5, reorder_qty=20)),
        on(StockIncomingScheduled(sku="MUG", qty=20, eta=ETA, purchase_order="PO-1")),
        placed("o-1", "web", "ada@example.com", {"TEE": (2, "24.90"), "MUG": (1, "9.50")}, DAY1),
        on(StockReserved(sku="TEE", order_id="o-1", qty=2)),
        on(StockReserved(sku="MUG", order_id="o-1", qty=1)),
        on(OrderConfirmed(order_id="o-1")),
        on(
            OrderShipped(
                order_id="o-1",
                shipment_id="s-1",
                carrier="simship",
                tracking_number="SIM1",
                tracking_url="https://track.example/SIM1",
            )
        ),
        placed("o-2", "marketplace", "bob@example.com", {"TEE": (1, "24.90")}, DAY1 + timedelta(hours=1)),
        on(OrderCancelled(order_id="o-2", reason="customer asked")),
        placed("o-3", "web", "ada@example.com", {"MUG": (3, "9.50")}, DAY2),
        on(StockReservationFailed(sku="MUG", order_id="o-3", qty=3, reason="out of stock")),
    ]


def project(engine: Engine, events: Sequence[Event[EventData]]) -> None:
    records = [Record(e.topic, 0, offset, e.subject, encode(e)) for offset, e in enumerate(events)]
    with engine.begin() as conn:
        create_tables(conn, [*ORDERS.tables, *INVENTORY.tables])
        for projection in (ORDERS, INVENTORY):
            apply_records(conn, projection, [r for r in records if r.topic in projection.topics])


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = engine_for(f"sqlite:///{tmp_path / 'views.sqlite3'}")
    try:
        yield engine
    finally:
        engine.dispose()


def client_for(tmp_path: Path, engine: Engine) -> TestClient:
    settings = Settings(data_dir=tmp_path, api_keys=KEY)
    return TestClient(create_app(settings, RecordingPublisher(), read_model=SqlReadModel(engine)))


@pytest.fixture
def client(tmp_path: Path, engine: Engine) -> Iterator[TestClient]:
    project(engine, history())
    with client_for(tmp_path, engine) as test_client:
        yield test_client


def test_orders_list_filters_and_pages(client: TestClient) -> None:
    everything = client.get("/api/v1/orders", headers=OPS).json()
    assert (everything["total"], [o["order_id"] for o in everything["items"]]) == (3, ["o-3", "o-2", "o-1"])
    cancelled = client.get("/api/v1/orders", params={"status": "cancelled"}, headers=OPS).json()
    assert [o["order_id"] for o in cancelled["items"]] == ["o-2"]
    page = client.get("/api/v1/orders", params={"customer": "ada@example.com", "limit": 1}, headers=OPS).json()
    assert (page["total"], [o["order_id"] for o in page["items"]]) == (2, ["o-3"])
    on_day1 = {"placed_from": "2026-01-10T00:00:00Z", "placed_to": "2026-01-11T00:00:00Z"}
    assert client.get("/api/v1/orders", params=on_day1, headers=OPS).json()["total"] == 2


def test_order_detail_has_lines_totals_tracking_and_timeline(client: TestClient) -> None:
    response = client.get("/api/v1/orders/o-1", headers=OPS)
    assert response.status_code == 200
    order = response.json()
    assert {line["sku"]: (line["qty"], line["unit_price"]) for line in order["lines"]} == {
        "TEE": (2, "24.90"),
        "MUG": (1, "9.50"),
    }
    assert (order["status"], order["total_amount"], order["currency"]) == ("shipped", "59.30", "EUR")
    assert (order["tracking_number"], order["customer_email"]) == ("SIM1", "ada@example.com")
    assert [entry["type"] for entry in order["timeline"]] == [
        "oms.order.placed",
        "oms.order.confirmed",
        "oms.order.shipped",
    ]
    assert client.get("/api/v1/orders/nope", headers=OPS).status_code == 404


def test_inventory_list_low_only_and_sku_detail(client: TestClient) -> None:
    listed = client.get("/api/v1/inventory", headers=OPS).json()
    assert listed["total"] == 2
    assert {i["sku"]: (i["on_hand"], i["reserved"], i["available"]) for i in listed["items"]} == {
        "MUG": (1, 1, 0),
        "TEE": (10, 2, 8),
    }
    low = client.get("/api/v1/inventory", params={"low_only": "true"}, headers=OPS).json()
    assert (low["total"], [i["sku"] for i in low["items"]]) == (1, ["MUG"])
    mug = client.get("/api/v1/inventory/MUG", headers=OPS).json()
    assert mug["backorders"] == [{"order_id": "o-3", "qty": 3}]
    assert (mug["incoming_qty"], mug["incoming"][0]["purchase_order"], mug["backordered_qty"]) == (20, "PO-1", 3)
    assert client.get("/api/v1/inventory/NOPE", headers=OPS).status_code == 404


def test_customers_are_counted_and_listed(client: TestClient) -> None:
    body = client.get("/api/v1/customers", params={"limit": 1}, headers=OPS).json()
    assert (body["total"], [c["email"] for c in body["items"]]) == (2, ["ada@example.com"])
    ada = body["items"][0]
    assert (ada["orders_count"], ada["total_spend"], ada["channels"]) == (2, "87.80", ["web"])


def test_analytics_sums_sales_by_channel_and_sku(client: TestClient) -> None:
    report = client.get("/api/v1/analytics", headers=OPS).json()
    assert (report["orders"], report["units"], report["cancelled_units"]) == (3, 7, 1)
    assert report["revenue"] == [{"currency": "EUR", "amount": "112.70"}]
    assert [(c["channel"], c["orders"], c["units"]) for c in report["by_channel"]] == [
        ("marketplace", 1, 1),
        ("web", 2, 6),
    ]
    assert [(s["sku"], s["units"]) for s in report["top_skus"]] == [("MUG", 4), ("TEE", 3)]


def test_analytics_range_covers_whole_utc_days(client: TestClient) -> None:
    report = client.get("/api/v1/analytics", params={"since": "2026-01-11T08:00:00+01:00"}, headers=OPS).json()
    assert report["since"].startswith("2026-01-11T00:00:00")
    assert (report["orders"], report["units"]) == (1, 3)
    until = client.get("/api/v1/analytics", params={"until": "2026-01-11T00:00:00Z"}, headers=OPS).json()
    assert (until["orders"], until["units"], until["until"][:10]) == (2, 4, "2026-01-11")


def test_tracking_finds_by_order_id_or_external_ref_for_the_right_email_only(client: TestClient) -> None:
    for reference in ("o-1", "#O-1"):
        found = client.get("/api/v1/track", params={"order": reference, "email": "ADA@example.com"})
        assert found.status_code == 200, found.text
        assert (found.json()["status"], found.json()["tracking_number"]) == ("shipped", "SIM1")
        assert "customer_email" not in found.json()
    wrong = client.get("/api/v1/track", params={"order": "o-1", "email": "bob@example.com"})
    unknown = client.get("/api/v1/track", params={"order": "o-404", "email": "bob@example.com"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()


def test_before_the_projections_create_their_tables_every_read_is_empty(tmp_path: Path, engine: Engine) -> None:
    with client_for(tmp_path, engine) as client:
        assert client.get("/api/v1/orders", headers=OPS).json()["total"] == 0
        assert client.get("/api/v1/orders/o-1", headers=OPS).status_code == 404
        assert client.get("/api/v1/inventory", headers=OPS).json()["items"] == []
        assert client.get("/api/v1/customers", headers=OPS).json()["total"] == 0
        assert client.get("/api/v1/analytics", headers=OPS).json()["orders"] == 0
        assert client.get("/api/v1/track", params={"order": "o-1", "email": "a@b.co"}).status_code == 404
        project(engine, history())  # the projector starts later: the same model now sees the views
        assert client.get("/api/v1/orders", headers=OPS).json()["total"] == 3


class CommitsBetweenStatements:
    """A connection that lets the projector commit a batch right after the read's first statement."""

    def __init__(self, conn: Any, batch: Callable[[], None]) -> None:
        self.conn, self.batch, self.statements = conn, batch, 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        result = self.conn.execute(*args, **kwargs)
        self.statements += 1
        if self.statements == 1:
            self.batch()
        return result


def test_an_order_read_never_shows_an_event_on_its_timeline_that_its_row_has_not_counted(engine: Engine) -> None:
    order = placed("o-9", "web", "ada@example.com", {"TEE": (1, "24.90")}, DAY1)
    project(engine, [order])
    cancelled = on(OrderCancelled(order_id="o-9", reason="customer asked"))

    def commit_cancellation() -> None:
        with engine.begin() as conn:
            apply_records(conn, ORDERS, [Record(cancelled.topic, 0, 100, cancelled.subject, encode(cancelled))])

    with engine.connect() as conn:
        read = order_detail_queries.get_order(cast(Any, CommitsBetweenStatements(conn, commit_cancellation)), "o-9")
    assert read is not None
    if "oms.order.cancelled" in {entry["type"] for entry in read["timeline"]}:
        assert read["status"] == "cancelled", "the timeline shows the cancellation, the row must count it"
