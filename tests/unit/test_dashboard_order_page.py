"""The dashboard's order page over views the real projection built from what the real order rules decided: the
ledger, each payment, each parcel with its own tracking, and refusals in plain words on the timeline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.http.api import create_app
from adapters.http.api.sql_read_model import SqlReadModel
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.engines import engine_for
from tests.unit.test_api_order_ledger import split_order_story
from tests.unit.test_cli_orders_show import build, with_a_late_payment

KEY = "ops-key-1"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    build(tmp_path / "views.sqlite3", with_a_late_payment(split_order_story()))
    engine = engine_for(f"sqlite:///{tmp_path / 'views.sqlite3'}")
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEY), RecordingPublisher(), read_model=SqlReadModel(engine))
    with TestClient(app, follow_redirects=False) as test_client:
        assert test_client.post("/dashboard/login", data={"key": KEY}).status_code == 303
        yield test_client
    engine.dispose()


def section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def money(html: str, name: str) -> str:
    found = re.search(rf'data-money="{name}">([^<]*)<', html)
    assert found, name
    return found.group(1)


def test_the_order_page_shows_the_ledger_payments_parcels_and_the_refused_return(client: TestClient) -> None:
    html = client.get("/dashboard/orders/o-api").text
    ledger = section(html, "ledger")
    assert "status-paid" in ledger
    assert [money(ledger, n) for n in ("total", "captured", "refunded", "balance")] == [
        "20.00 EUR",
        "20.00 EUR",
        "0.00 EUR",
        "0.00 EUR",
    ]
    payments = section(html, "payments")
    assert 'data-payment-id="p-1"' in payments and 'data-payment-id="p-2"' in payments
    parcels = section(html, "parcels")
    first = parcels[parcels.index('data-shipment-id="o-api-S1"') : parcels.index('data-shipment-id="o-api-S2"')]
    second = parcels[parcels.index('data-shipment-id="o-api-S2"') :]
    assert "status-delivered" in first and "T-ONE" in first and "T-TWO" not in first
    assert "status-dispatched" in second and "T-TWO" in second and "1 x MUG-1" not in second
    [refused] = re.findall(r'<li data-type="([^"]+)" class="refused" data-refused="not_returnable">', html)
    assert refused == "oms.return.requested"
    assert "Refused, nothing changed:</strong> cannot return 9 x TEA-2" in html
    assert 'id="cancel-form"' not in html  # parcels left: too late to cancel


def test_a_payment_after_the_cancellation_shows_refunded_with_nothing_due(client: TestClient) -> None:
    html = client.get("/dashboard/orders/o-late").text
    ledger = section(html, "ledger")
    assert "status-refunded" in ledger and "status-paid" not in ledger
    assert [money(ledger, n) for n in ("captured", "refunded", "balance")] == ["10.00 EUR", "10.00 EUR", "0.00 EUR"]
    assert 'data-payment-id="p-9"' in section(html, "payments")
    assert "late_payment" in section(html, "timeline")
