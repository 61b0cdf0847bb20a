"""Each channel mapper on a realistic payload, and field-level errors on broken ones."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.http.channels import PayloadInvalid, native, order_id_for, pos, shopify, woocommerce
from events import Customer

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(), parse_float=Decimal)


def lines_of(order: Any) -> dict[str, tuple[int, Decimal]]:
    return {line.sku: (line.qty, line.unit_price) for line in order.lines}


def fields_in_error(payload: Any, mapper: Any) -> set[str]:
    with pytest.raises(PayloadInvalid) as caught:
        mapper(payload)
    return {error.field for error in caught.value.errors}


def test_shopify_order_maps_lines_total_payment_and_customer() -> None:
    mapped = shopify.map_order(sample("shopify_order.json"))
    order = mapped.order
    assert mapped.external_id == "5624593694771"
    assert order.order_id == order_id_for("shopify", "5624593694771")
    assert order.external_ref == "#1042"
    assert lines_of(order) == {"TEE-BLK-M": (2, Decimal("24.90")), "TOTE-NAT": (1, Decimal("39.90"))}
    assert order.total() == Decimal("89.70")
    assert order.payment_status == "paid"
    assert order.customer.email == "mara.schulz@example.com"
    assert order.customer.name == "Mara Schulz"
    assert order.customer.language == "de-DE"
    assert order.shipping_address is not None
    assert (order.shipping_address.line1, order.shipping_address.country) == ("Torstr. 12", "DE")
    assert order.placed_at.isoformat() == "2026-01-31T12:45:12+00:00"


def test_shopify_unpaid_order_is_pending_and_the_order_id_is_stable() -> None:
    payload = sample("shopify_order.json") | {"financial_status": "pending"}
    first, again = shopify.map_order(payload), shopify.map_order(payload)
    assert first.order.payment_status == "pending"
    assert first.order.order_id == again.order.order_id


def test_shopify_invalid_payload_names_each_field() -> None:
    payload = sample("shopify_order.json")
    payload["line_items"][0]["quantity"] = 0
    payload["line_items"][1]["sku"] = None
    payload["currency"] = "euro"
    assert fields_in_error(payload, shopify.map_order) == {"line_items.0.quantity", "line_items.1.sku", "currency"}


def test_shopify_order_without_any_email_is_refused() -> None:
    payload = sample("shopify_order.json")
    payload["email"] = None
    payload["customer"]["email"] = ""
    assert fields_in_error(payload, shopify.map_order) == {"email"}


def test_shopify_address_errors_use_shopify_names() -> None:
    payload = sample("shopify_order.json")
    payload["shipping_address"]["country_code"] = "Germany"
    assert fields_in_error(payload, shopify.map_order) == {"shipping_address.country_code"}


def test_woocommerce_order_on_hold_is_pending_with_exact_prices_and_its_shipping() -> None:
    order = woocommerce.map_order(sample("woocommerce_order.json")).order
    assert order.order_id == order_id_for("woocommerce", "727")
    assert lines_of(order) == {"WOO-SINGLE-1": (2, Decimal(6)), "IDEA-BLK": (1, Decimal("29.8"))}
    assert order.shipping_charge == Decimal("10.00")
    assert order.total() == Decimal("51.80"), "what the shop charges (its `total`)"
    assert order.payment_status == "pending"
    assert order.currency == "USD"
    assert (order.customer.email, order.customer.name) == ("john.doe@example.com", "John Doe")
    assert order.placed_at.isoformat() == "2026-01-31T13:03:11+00:00"


@pytest.mark.parametrize(
    "change", [{"status": "processing"}, {"set_paid": True}, {"date_paid_gmt": "2026-01-31T13:05:00"}]
)
def test_woocommerce_paid_signals(change: dict[str, Any]) -> None:
    assert woocommerce.map_order(sample("woocommerce_order.json") | change).order.payment_status == "paid"


def test_woocommerce_blank_shipping_is_no_address_and_errors_name_fields() -> None:
    payload = sample("woocommerce_order.json")
    payload["shipping"] = {key: "" for key in payload["shipping"]}
    assert woocommerce.map_order(payload).order.shipping_address is None
    payload["billing"]["email"] = "not-an-email"
    payload["line_items"][1]["quantity"] = "two"
    assert fields_in_error(payload, woocommerce.map_order) == {"billing.email", "line_items.1.quantity"}


def test_pos_sale_is_paid_handed_over_with_its_customer() -> None:
    mapped = pos.map_order(sample("pos_sale.json"))
    assert mapped.external_id == "BER-MITTE:2026-000871"
    assert mapped.order.payment_status == "paid"
    assert mapped.order.fulfilment == "handed_over"
    assert mapped.order.shipping_address is None
    assert mapped.order.total() == Decimal("47.40")
    assert mapped.order.customer.email == "walkin.loyal@example.com"


@pytest.mark.parametrize("email", [None, "", "  "])
def test_pos_walk_in_sale_is_an_anonymous_customer_without_any_address(email: str | None) -> None:
    order = pos.map_order(sample("pos_sale.json") | {"customer_email": email}).order
    assert order.customer == Customer(), "no placeholder address: nobody to write to, a customer of their own"
    assert order.fulfilment == "handed_over"


def test_pos_same_sku_twice_at_one_price_is_merged_at_two_prices_refused() -> None:
    payload = sample("pos_sale.json")
    payload["items"].append({"sku": "SOCK-GRY", "qty": 1, "unit_price": "7.50"})
    assert lines_of(pos.map_order(payload).order)["SOCK-GRY"] == (4, Decimal("7.50"))
    payload["items"][-1]["unit_price"] = "5.00"
    assert fields_in_error(payload, pos.map_order) == {"items.2.sku"}


def test_native_order_keeps_its_own_id_and_channel() -> None:
    mapped = native.map_order(sample("native_order.json"))
    assert (mapped.external_id, mapped.order.order_id, mapped.order.channel) == ("web-100042", "web-100042", "web")
    assert mapped.order.total() == Decimal("73.00")
    assert mapped.order.payment_status == "pending"


def test_native_version_1_is_upcast_and_errors_use_contract_names() -> None:
    v1 = sample("native_order.json")
    v1["customer_email"] = v1.pop("customer")["email"]
    assert native.map_order(v1).order.customer.email == "ada@example.com"
    broken = copy.deepcopy(sample("native_order.json"))
    broken["lines"][0]["qty"] = -3
    del broken["currency"]
    assert fields_in_error(broken, native.map_order) == {"lines.0.qty", "currency"}
