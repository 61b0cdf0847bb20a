"""Issue 16, item 4: `GET /api/v1/orders?status=` takes only a status an order can have; anything else is a 422
problem naming the statuses, not an empty page that reads as "no such orders"."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from projections.order_progress import STATUSES
from tests.unit.test_sql_read_model import OPS, client_for, engine, history, project

__all__ = ["engine"]  # the fixture, shared with test_sql_read_model


def test_an_unknown_status_is_a_422_listing_the_statuses(tmp_path: Path, engine: Engine) -> None:
    project(engine, history())
    with client_for(tmp_path, engine) as client:
        refused = client.get("/api/v1/orders", params={"status": "bogus"}, headers=OPS)
        cancelled = client.get("/api/v1/orders", params={"status": "cancelled"}, headers=OPS)

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert all(status in refused.text for status in STATUSES)
    assert [order["order_id"] for order in cancelled.json()["items"]] == ["o-2"]
