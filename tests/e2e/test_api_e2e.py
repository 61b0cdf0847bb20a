"""The HTTP API over real HTTP, with the real broker, stream processors and projections running.

Issue 5's must-show: a signed Shopify order becomes a projected order; a forged one is refused and
never reaches the log; a duplicate webhook makes one order; a CSV names its bad row; tracking answers
the owner only; ops endpoints need a key.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from adapters.http.channels.common import order_id_for
from adapters.http.channels.signatures import sign
from events import topics
from tests.e2e.system import System
from tests.integration.harness import Logged, read_topic

pytestmark = pytest.mark.slow

T = TypeVar("T")
SAMPLES = Path(__file__).parents[1] / "unit" / "samples"
SHOPIFY_URL = "/api/v1/channels/shopify/orders"
PROJECTED_WITHIN_S = 20.0


@pytest.fixture
async def http(system: System) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=system.base_url, timeout=10.0) as client:
        yield client


def shopify_order(tag: str) -> dict[str, Any]:
    """The sample Shopify webhook, made unique: its own id, order name, customer and skus."""
    order = json.loads((SAMPLES / "shopify_order.json").read_text())
    email = f"{tag}@example.com"
    order.update(id=random.randrange(10**12, 10**13), name=f"#{tag.upper()}", email=email)
    order["customer"]["email"] = email
    for item in order["line_items"]:
        item["sku"] = f"{item['sku']}-{tag.upper()}"
    return order


def unique_tag(stem: str) -> str:
    return f"{stem}{uuid.uuid4().hex[:6]}"


async def post_shopify(
    http: httpx.AsyncClient, system: System, body: bytes, secret: str | None = None
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    headers["X-Shopify-Hmac-Sha256"] = sign(body, secret or system.channel_secrets["shopify"])
    return await http.post(SHOPIFY_URL, content=body, headers=headers)


async def eventually(probe: Callable[[], Awaitable[T | None]], system: System, seconds: float) -> T:
    """The first non-None answer of `probe`, polled until `seconds` pass (failing early if a child died)."""
    deadline = time.monotonic() + seconds
    while True:
        found = await probe()
        if found is not None:
            return found
        system.check_running()
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing after {seconds:.0f}s\n{system.logs()}")
        await asyncio.sleep(0.25)


async def projected_order(
    http: httpx.AsyncClient, system: System, order_id: str, *, until: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await http.get(f"/api/v1/orders/{order_id}", headers=system.ops_headers)
        if response.status_code == 200 and until(response.json()):
            return dict(response.json())
        return None

    return await eventually(probe, system, PROJECTED_WITHIN_S)


async def orders_on_log(system: System) -> list[Logged]:
    return await read_topic(system.bootstrap, system.topic(topics.ORDERS))


def placed_events(logged: list[Logged], order_id: str) -> list[Logged]:
    return [i for i in logged if i.event and i.event.type == "oms.order.placed" and i.event.subject == order_id]


async def test_signed_shopify_order_becomes_a_confirmed_projected_order(
    http: httpx.AsyncClient, system: System
) -> None:
    order = shopify_order(unique_tag("conf"))
    for item in order["line_items"]:
        receipt = await http.post(
            f"/api/v1/inventory/{item['sku']}/receipts", json={"qty": 10}, headers=system.ops_headers
        )
        assert receipt.status_code == 202, receipt.text

    started = time.monotonic()
    response = await post_shopify(http, system, json.dumps(order).encode())
    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]

    projected = await projected_order(http, system, order_id, until=lambda o: o["confirmed_at"] is not None)
    elapsed = time.monotonic() - started
    skus = [item["sku"] for item in order["line_items"]]
    assert {line["sku"]: line["qty"] for line in projected["lines"]} == {skus[0]: 2, skus[1]: 1}
    assert {line["sku"]: line["unit_price"] for line in projected["lines"]} == {skus[0]: "24.90", skus[1]: "39.90"}
    assert (projected["total_amount"], projected["currency"], projected["channel"]) == ("89.70", "EUR", "shopify")
    assert (projected["external_ref"], projected["customer_email"]) == (order["name"], order["email"])
    assert projected["status"] in {"shipment_requested", "shipped", "delivered"}
    assert "oms.order.confirmed" in [entry["type"] for entry in projected["timeline"]]
    assert elapsed < PROJECTED_WITHIN_S, f"confirmed after {elapsed:.1f}s"


async def test_wrong_signature_is_refused_and_nothing_reaches_the_orders_topic(
    http: httpx.AsyncClient, system: System
) -> None:
    order = shopify_order(unique_tag("forged"))
    body = json.dumps(order).encode()
    forged = await post_shopify(http, system, body, secret="not-the-shop-secret")
    unsigned = await http.post(SHOPIFY_URL, content=body, headers={"Content-Type": "application/json"})
    assert forged.status_code == unsigned.status_code == 401
    assert forged.headers["content-type"] == "application/problem+json"

    # a genuine order sent afterwards is on the log; the forged one, sent before it, is not
    genuine = await post_shopify(http, system, json.dumps(shopify_order(unique_tag("genuine"))).encode())
    assert genuine.status_code == 202
    logged = await orders_on_log(system)
    assert placed_events(logged, genuine.json()["order_id"])
    forged_id = order_id_for("shopify", str(order["id"]))
    assert [i for i in logged if i.event and i.event.subject == forged_id] == []
    assert [i for i in logged if i.event and getattr(i.event.data, "external_ref", None) == order["name"]] == []


async def test_a_duplicate_webhook_makes_one_order(http: httpx.AsyncClient, system: System) -> None:
    order = shopify_order(unique_tag("dup"))
    body = json.dumps(order).encode()
    first = await post_shopify(http, system, body)
    again = await post_shopify(http, system, body)
    assert first.status_code == again.status_code == 202
    order_id = first.json()["order_id"]
    assert again.json() == {"order_id": order_id, "duplicate": True}

    await projected_order(http, system, order_id, until=lambda o: o["status"] is not None)
    listed = await http.get("/api/v1/orders", params={"customer": order["email"]}, headers=system.ops_headers)
    assert [o["order_id"] for o in listed.json()["items"]] == [order_id]
    assert len(placed_events(await orders_on_log(system), order_id)) == 1


async def test_a_csv_with_one_invalid_row_names_that_row_and_accepts_nothing(
    http: httpx.AsyncClient, system: System
) -> None:
    upload = (SAMPLES / "phone_orders_bad_row.csv").read_bytes()  # row 3: qty -1
    response = await http.post(
        "/api/v1/channels/csv/orders",
        content=upload,
        headers={**system.ops_headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert {error["row"] for error in errors} == {3}
    assert any(error["field"] == "qty" for error in errors)
    assert "row 3" in response.json()["detail"]
    refs = {getattr(i.event.data, "external_ref", None) for i in await orders_on_log(system) if i.event}
    assert not refs & {"PH-2001", "EM-2002"}


async def test_tracking_answers_the_owner_and_leaks_nothing_to_anyone_else(
    http: httpx.AsyncClient, system: System
) -> None:
    order = shopify_order(unique_tag("track"))
    response = await post_shopify(http, system, json.dumps(order).encode())
    order_id = response.json()["order_id"]
    await projected_order(http, system, order_id, until=lambda o: o["status"] is not None)

    for reference in (order_id, order["name"]):
        found = await http.get("/api/v1/track", params={"order": reference, "email": order["email"].upper()})
        assert found.status_code == 200, found.text
        assert found.json()["order_id"] == order_id
        assert found.json()["status"]
        assert order["email"] not in found.text

    wrong_email = await http.get("/api/v1/track", params={"order": order_id, "email": "someone@example.com"})
    unknown = await http.get("/api/v1/track", params={"order": "NO-SUCH-ORDER", "email": "someone@example.com"})
    assert wrong_email.status_code == unknown.status_code == 404
    assert wrong_email.json() == unknown.json()
    assert wrong_email.headers["content-type"] == unknown.headers["content-type"]
    assert order_id not in wrong_email.text


async def test_ops_endpoints_refuse_a_request_without_a_key(http: httpx.AsyncClient, system: System) -> None:
    sku = f"NOKEY-{uuid.uuid4().hex[:6].upper()}"
    refused = [
        await http.post(f"/api/v1/inventory/{sku}/receipts", json={"qty": 5}),
        await http.post(f"/api/v1/inventory/{sku}/receipts", json={"qty": 5}, headers={"Authorization": "Bearer no"}),
        await http.post("/api/v1/orders/SOME-ORDER/cancel", json={"reason": "no key"}),
        await http.get("/api/v1/orders"),
        await http.get("/api/v1/inventory"),
        await http.get("/api/v1/analytics"),
        await http.post("/api/v1/channels/csv/orders", content=b"order_ref\n", headers={"Content-Type": "text/csv"}),
    ]
    assert [r.status_code for r in refused] == [401] * len(refused)
    assert all(r.headers["content-type"] == "application/problem+json" for r in refused)
    inventory_log = await read_topic(system.bootstrap, system.topic(topics.INVENTORY))
    assert [i for i in inventory_log if i.event and i.event.subject == sku] == []
