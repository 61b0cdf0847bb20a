"""The order detail and customer tracking over views the real projection built from what the real order rules
decided: the ledger, each payment, each parcel with its own tracking, refusals on the timeline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.http.api import create_app
from adapters.http.api.sql_read_model import SqlReadModel
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from projections.projector import INVENTORY, prepare_views
from tests.unit.rules_support import at, delivered, dispatched, failed, paid, placed, reserved, return_requested
from tests.unit.view_support import Story

KEY = "ops-key-1"
OPS = {"Authorization": f"Bearer {KEY}"}
MUG, TEA = "MUG-1", "TEA-2"


def split_order_story() -> Story:
    """An unpaid split order: paid in two goes, one parcel delivered, the other on its way, a return refused."""
    return Story().then(
        placed("o-api", {MUG: 1, TEA: 2}, paid=False, split=True, prices={MUG: "10.00", TEA: "5.00"}),
        reserved("o-api", MUG, 1),
        failed("o-api", TEA, 2, at(days=2)),
        paid("o-api", "8.00", payment_id="p-1"),
        paid("o-api", "12.00", payment_id="p-2"),
        dispatched("o-api", "o-api-S1", {MUG: 1}, tracking="T-ONE"),
        reserved("o-api", TEA, 2, from_backorder=True),
        dispatched("o-api", "o-api-S2", {TEA: 2}, tracking="T-TWO"),
        delivered("o-api", "T-ONE"),
        return_requested("o-api", {TEA: 9}),
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    engine = engine_for(f"sqlite:///{tmp_path / 'views.sqlite3'}")
    with engine.begin() as conn:
        prepare_views(conn, INVENTORY)  # the read model answers once every view exists
    split_order_story().project(engine)
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEY), RecordingPublisher(), read_model=SqlReadModel(engine))
    with TestClient(app) as test_client:
        yield test_client
    engine.dispose()


def test_the_order_detail_has_the_ledger_payments_parcels_and_refusals(client: TestClient) -> None:
    order = client.get("/api/v1/orders/o-api", headers=OPS).json()
    assert (order["status"], order["payment_status"]) == ("partially_delivered", "paid")
    ledger = [order[k] for k in ("total_amount", "captured_amount", "refunded_amount", "balance_due")]
    assert ledger == ["20.00", "20.00", "0.00", "0.00"]
    assert [(p["payment_id"], p["kind"], p["captured"], p["refunded"]) for p in order["payments"]] == [
        ("p-1", "captured", "8.00", "0.00"),
        ("p-2", "captured", "12.00", "0.00"),
    ]
    parcels = [(p["shipment_id"], p["status"], p["tracking_number"], p["lines"]) for p in order["parcels"]]
    assert parcels == [
        ("o-api-S1", "delivered", "T-ONE", [{"sku": MUG, "qty": 1}]),
        ("o-api-S2", "dispatched", "T-TWO", [{"sku": TEA, "qty": 2}]),
    ]
    [refused] = [entry for entry in order["timeline"] if entry["refused"]]
    assert (refused["type"], refused["refusal_code"]) == ("oms.return.requested", "not_returnable")
    assert "cannot return 9 x TEA-2" in refused["refusal_reason"]
    assert not any(entry["refused"] for entry in order["timeline"] if entry["type"] == "oms.order.paid")


def test_tracking_shows_each_parcel_with_its_own_number_and_status(client: TestClient) -> None:
    body = client.get("/api/v1/track", params={"order": "o-api", "email": "ada@example.com"}).json()
    assert body["status"] == "partially_delivered"
    assert [(p["tracking_number"], p["status"]) for p in body["parcels"]] == [
        ("T-ONE", "delivered"),
        ("T-TWO", "dispatched"),
    ]
    assert "payments" not in body and "customer_email" not in body and "shipment_id" not in body["parcels"][0]
