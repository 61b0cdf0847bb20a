"""Order to cash over real HTTP, with the real broker, stream processors and projections running (issue 13).

Orders come in as signed native webhooks and a Shopify webhook (paid later by its `orders/paid`); payments
through the payment webhook; parcels leave with the simulated carrier and are delivered through the carrier
webhook. What the API then shows is what the order processor
decided: a pending order confirmed once paid, an underpayment waiting with its balance, a payment after the
timeout refunded with a message to the customer, a split order delivered parcel by parcel with each parcel's own
tracking number, and a refused return that changes nothing and says why. The payment deadline is short here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.http.channels.signatures import sign
from tests.e2e.system import CHANNEL_SECRETS, System, start_system
from tests.e2e.test_api_e2e import eventually, shopify_order

pytestmark = pytest.mark.slow

PAYMENT_TIMEOUT_S = 8
WITHIN_S = 25.0
SECRETS = {**CHANNEL_SECRETS, "native": "e2e-native-secret"}


@pytest.fixture(scope="module")
def system(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    env = {"OMS_PAYMENT_TIMEOUT_S": str(PAYMENT_TIMEOUT_S)}
    with start_system(kafka_bootstrap, tmp_path_factory.mktemp("cash"), channel_secrets=SECRETS, extra_env=env) as up:
        yield up


@pytest.fixture
async def http(system: System) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=system.base_url, timeout=10.0) as client:
        yield client


def tag(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8].upper()}"


async def place(http: httpx.AsyncClient, system: System, lines: dict[str, tuple[int, str]], **fields: Any) -> str:
    """A native order (the contract's own shape), signed as the web shop signs it."""
    order_id = tag("CASH")
    order = {
        "order_id": order_id,
        "channel": "web",
        "customer": {"email": f"{order_id.lower()}@example.com", "name": "Cash Test"},
        "lines": [{"sku": sku, "qty": qty, "unit_price": price} for sku, (qty, price) in lines.items()],
        "currency": "EUR",
        "payment_status": "pending",
        "placed_at": datetime.now(UTC).isoformat(),
        **fields,
    }
    body = json.dumps(order).encode()
    headers = {"Content-Type": "application/json", "X-OMS-Signature": sign(body, SECRETS["native"])}
    response = await http.post("/api/v1/channels/native/orders", content=body, headers=headers)
    assert response.status_code == 202, response.text
    return order_id


async def ops(http: httpx.AsyncClient, system: System, url: str, body: dict[str, Any]) -> None:
    response = await http.post(url, json=body, headers=system.ops_headers)
    assert response.status_code == 202, response.text


async def stock(http: httpx.AsyncClient, system: System, sku: str, qty: int) -> None:
    await ops(http, system, f"/api/v1/inventory/{sku}/receipts", {"qty": qty})


async def pay(http: httpx.AsyncClient, system: System, order_id: str, amount: str, payment_id: str) -> None:
    body = {"amount": amount, "payment_id": payment_id, "kind": "captured", "currency": "EUR", "method": "card"}
    await ops(http, system, f"/api/v1/orders/{order_id}/payments", body)


async def order_when(
    http: httpx.AsyncClient, system: System, order_id: str, until: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await http.get(f"/api/v1/orders/{order_id}", headers=system.ops_headers)
        return dict(response.json()) if response.status_code == 200 and until(response.json()) else None

    return await eventually(probe, system, WITHIN_S)


def has(*types: str) -> Callable[[dict[str, Any]], bool]:
    """True once the order's timeline holds each of `types`."""
    return lambda order: set(types) <= {entry["type"] for entry in order["timeline"]}


def ledger(order: dict[str, Any]) -> tuple[str, ...]:
    return tuple(order[k] for k in ("total_amount", "captured_amount", "refunded_amount", "balance_due"))


async def test_a_pending_order_is_confirmed_once_paid(http: httpx.AsyncClient, system: System) -> None:
    sku = tag("MUG")
    await stock(http, system, sku, 5)
    order_id = await place(http, system, {sku: (2, "12.50")})
    waiting = await order_when(http, system, order_id, has("oms.order.awaiting_payment"))
    assert (waiting["status"], waiting["payment_status"]) == ("awaiting_payment", "unpaid")
    assert ledger(waiting) == ("25.00", "0.00", "0.00", "25.00")

    await pay(http, system, order_id, "25.00", f"pi-{order_id}")
    paid = await order_when(http, system, order_id, has("oms.order.confirmed", "oms.payment.recorded"))
    assert paid["payment_status"] == "paid" and ledger(paid) == ("25.00", "25.00", "0.00", "0.00")
    assert paid["status"] in {"shipment_requested", "shipped"}
    assert [(p["payment_id"], p["captured"]) for p in paid["payments"]] == [(f"pi-{order_id}", "25.00")]


async def test_a_pending_shopify_order_is_confirmed_by_its_orders_paid_webhook(
    http: httpx.AsyncClient, system: System
) -> None:
    order = shopify_order(tag("shop").lower()) | {"financial_status": "pending"}
    for item in order["line_items"]:
        await stock(http, system, item["sku"], 10)
    order_id = (await shopify(http, "orders/create", order)).json()["order_id"]
    waiting = await order_when(http, system, order_id, has("oms.order.awaiting_payment"))
    assert (waiting["status"], waiting["payment_status"], waiting["captured_amount"]) == (
        "awaiting_payment",
        "unpaid",
        "0.00",
    )
    assert waiting["balance_due"] == waiting["total_amount"] != "0.00"

    paid = order | {"financial_status": "paid", "updated_at": datetime.now(UTC).isoformat()}
    assert (await shopify(http, "orders/paid", paid)).json()["duplicate"] is False
    confirmed = await order_when(http, system, order_id, has("oms.order.confirmed", "oms.payment.recorded"))
    assert confirmed["payment_status"] == "paid" and confirmed["balance_due"] == "0.00"
    assert confirmed["captured_amount"] == confirmed["total_amount"] == waiting["total_amount"]
    assert [p["payment_id"] for p in confirmed["payments"]] == [f"shopify:{order['id']}"]
    assert confirmed["status"] in {"shipment_requested", "shipped"}


async def shopify(http: httpx.AsyncClient, topic: str, payload: dict[str, Any]) -> httpx.Response:
    """A Shopify webhook about an order: its topic in `X-Shopify-Topic`, signed with the shop's secret."""
    body = json.dumps(payload).encode()
    headers = {"X-Shopify-Hmac-Sha256": sign(body, SECRETS["shopify"]), "X-Shopify-Topic": topic}
    response = await http.post("/api/v1/channels/shopify/orders", content=body, headers=headers)
    assert response.status_code == 202, response.text
    return response


async def test_an_underpayment_waits_with_its_balance_and_a_payment_after_the_timeout_is_refunded(
    http: httpx.AsyncClient, system: System
) -> None:
    sku = tag("TEA")
    await stock(http, system, sku, 5)
    order_id = await place(http, system, {sku: (1, "30.00")})
    await order_when(http, system, order_id, has("oms.order.awaiting_payment"))
    await pay(http, system, order_id, "10.00", "pi-part")
    under = await order_when(http, system, order_id, has("oms.payment.recorded"))
    assert (under["status"], under["payment_status"]) == ("awaiting_payment", "partially_paid")
    assert ledger(under) == ("30.00", "10.00", "0.00", "20.00")
    assert not any(entry["type"] == "oms.order.confirmed" for entry in under["timeline"])

    # the deadline passes: cancelled, and the part payment goes back to it
    gone = await order_when(http, system, order_id, lambda o: o["status"] == "cancelled")
    cancelled = await order_when(http, system, order_id, lambda o: o["refunded_amount"] == "10.00")
    assert gone["cancellation_reason"] == "payment timeout" and cancelled["status"] == "cancelled"
    assert (cancelled["payment_status"], cancelled["balance_due"]) == ("refunded", "0.00")

    await pay(http, system, order_id, "30.00", "pi-late")
    late = await order_when(http, system, order_id, lambda o: o["refunded_amount"] == "40.00")
    assert (late["status"], late["payment_status"], late["balance_due"]) == ("cancelled", "refunded", "0.00")
    assert [(p["payment_id"], p["captured"], p["refunded"]) for p in late["payments"]] == [
        ("pi-part", "10.00", "10.00"),
        ("pi-late", "30.00", "30.00"),
    ]
    told = await order_when(http, system, order_id, lambda o: "payment_refunded" in _notices(o))
    assert any("late_payment" in entry["summary"] for entry in told["timeline"] if entry["type"] == "oms.refund.issued")


def _notices(order: dict[str, Any]) -> str:
    return " ".join(entry["summary"] for entry in order["timeline"] if entry["type"] == "oms.notification.sent")


async def test_a_split_order_is_delivered_parcel_by_parcel_with_each_parcels_tracking_number(
    http: httpx.AsyncClient, system: System
) -> None:
    first_sku, second_sku = tag("BOOT"), tag("HAT")
    await stock(http, system, first_sku, 3)
    lines = {first_sku: (1, "80.00"), second_sku: (1, "20.00")}
    order_id = await place(http, system, lines, payment_status="paid", shipping_policy="split")
    one_left = await order_when(http, system, order_id, lambda o: o["status"] == "partially_shipped")
    [first] = one_left["parcels"]
    assert first["lines"] == [{"sku": first_sku, "qty": 1}] and first["tracking_number"]

    await stock(http, system, second_sku, 3)
    both_left = await order_when(http, system, order_id, lambda o: o["status"] == "shipped")
    first, second = both_left["parcels"]
    assert second["lines"] == [{"sku": second_sku, "qty": 1}]
    assert second["tracking_number"] and second["tracking_number"] != first["tracking_number"]

    await deliver(http, system, order_id, first["tracking_number"])
    half = await order_when(http, system, order_id, lambda o: o["status"] == "partially_delivered")
    assert [(p["tracking_number"], p["status"]) for p in half["parcels"]] == [
        (first["tracking_number"], "delivered"),
        (second["tracking_number"], "dispatched"),
    ]
    assert half["delivered_at"] is None
    tracked = await track(http, order_id)
    assert tracked["status"] == "partially_delivered"
    assert [(p["tracking_number"], p["status"]) for p in tracked["parcels"]] == [
        (first["tracking_number"], "delivered"),
        (second["tracking_number"], "dispatched"),
    ]

    await deliver(http, system, order_id, second["tracking_number"])
    done = await order_when(http, system, order_id, lambda o: o["status"] == "delivered")
    assert [p["status"] for p in done["parcels"]] == ["delivered", "delivered"] and done["delivered_at"]
    assert [(p["tracking_number"], p["status"]) for p in (await track(http, order_id))["parcels"]] == [
        (first["tracking_number"], "delivered"),
        (second["tracking_number"], "delivered"),
    ]

    # a return of more than was shipped: accepted for processing, refused by the processor, nothing changes
    asked = await http.post(
        f"/api/v1/orders/{order_id}/returns",
        json={"lines": [{"sku": first_sku, "qty": 5}], "reason": "changed my mind"},
        headers=system.ops_headers,
    )
    assert asked.status_code == 202, asked.text
    request_id = asked.json()["event_id"]
    refused = await order_when(http, system, order_id, has("oms.order.request_refused"))
    [entry] = [e for e in refused["timeline"] if e["event_id"] == request_id]
    assert entry["refused"] and entry["refusal_code"] == "not_returnable"
    assert f"cannot return 5 x {first_sku}" in entry["refusal_reason"]
    assert (refused["status"], refused["payment_status"], refused["refunded_amount"]) == ("delivered", "paid", "0.00")
    assert refused["returns"] == [] and (await track(http, order_id))["status"] == "delivered"


async def deliver(http: httpx.AsyncClient, system: System, order_id: str, tracking_number: str) -> None:
    body = {"order_id": order_id, "tracking_number": tracking_number, "delivered_at": datetime.now(UTC).isoformat()}
    await ops(http, system, "/api/v1/shipments/delivered", body)


async def track(http: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    response = await http.get("/api/v1/track", params={"order": order_id, "email": f"{order_id.lower()}@example.com"})
    assert response.status_code == 200, response.text
    return dict(response.json())
