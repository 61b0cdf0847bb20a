"""Shop webhooks after the order was placed: what each kind maps to, and which of it is new.

Shopify sends the whole order with every order topic (`orders/updated`, `orders/paid`, `orders/cancelled`,
...), and refunds on their own (`refunds/create`); WooCommerce the whole order with `order.updated`. The
samples are the placement payloads of `tests/unit/samples`, moved on the way the shop moves them.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.http.channels import PayloadInvalid, order_id_for, shopify, update_mapper, woocommerce
from adapters.http.channels.common import LINES, ChannelUpdate
from adapters.http.channels.updates import fact_event_id, new_facts
from adapters.sql.intake import PublishedFact
from events import LineChange, OrderCancelRequested, OrderChangeRequested, OrderPaid, RefundReported

SAMPLES = Path(__file__).parent / "samples"
SHOP_ORDER = order_id_for("shopify", "5624593694771")
SHOP_PAYMENT = "shopify:5624593694771"
WOO_ORDER = order_id_for("woocommerce", "727")


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(), parse_float=Decimal)


def shopify_order(**changes: Any) -> dict[str, Any]:
    """The sample order, created unpaid at 13:45:12 (+01:00), with `changes` (a later state of it)."""
    payload: dict[str, Any] = sample("shopify_order.json") | {"financial_status": "pending"}
    payload["updated_at"] = payload["created_at"]
    return payload | changes


def woo_order(**changes: Any) -> dict[str, Any]:
    return sample("woocommerce_order.json") | changes


def data_of(update: ChannelUpdate) -> dict[str, Any]:
    return {fact.aspect: fact.data for fact in update.facts}


def remembered(update: ChannelUpdate, *, placing: bool = False) -> dict[str, PublishedFact]:
    """What the intake keeps once it published `update`."""
    return {value.aspect: value for value in new_facts(update, {}, placing=placing).remember}


def published(update: ChannelUpdate, before: dict[str, PublishedFact]) -> list[Any]:
    return [fact.data for fact, _ in new_facts(update, before, placing=False).publish]


# --- Shopify ------------------------------------------------------------------------------------


def test_shopify_orders_create_unpaid_is_a_pending_order_and_its_lines() -> None:
    update = shopify.map_update(shopify_order())
    assert update.order is not None and update.order.order.payment_status == "pending"
    assert update.order.order.payment_id is None
    assert list(data_of(update)) == [LINES]
    assert update.changed_at == datetime(2026, 1, 31, 12, 45, 12, tzinfo=UTC)


def test_shopify_orders_paid_is_the_shops_payment_of_what_the_order_costs() -> None:
    update = shopify.map_update(
        shopify_order(
            financial_status="paid", updated_at="2026-01-31T13:46:02+01:00", payment_gateway_names=["shopify_payments"]
        )
    )
    assert data_of(update)[f"payment:{SHOP_PAYMENT}"] == OrderPaid(
        order_id=SHOP_ORDER,
        amount=Decimal("89.70"),
        method="shopify_payments",
        payment_id=SHOP_PAYMENT,
        kind="captured",
        currency="EUR",
    )
    assert update.order is not None
    placed = update.order.order
    assert (placed.payment_status, placed.payment_id) == ("paid", SHOP_PAYMENT), "the same money, placed paid"


def test_shopify_authorized_is_an_authorization_and_the_order_is_placed_unpaid() -> None:
    update = shopify.map_update(shopify_order(financial_status="authorized"))
    assert data_of(update)[f"payment:{SHOP_PAYMENT}"].kind == "authorized"
    assert update.order is not None and update.order.order.payment_status == "pending"


@pytest.mark.parametrize("status", ["pending", "partially_paid", "voided", "expired"])
def test_shopify_statuses_that_took_no_whole_payment_report_none(status: str) -> None:
    assert not any(
        aspect.startswith("payment:") for aspect in data_of(shopify.map_update(shopify_order(financial_status=status)))
    )


def test_shopify_shipping_and_discounts_make_the_total_the_shop_charges() -> None:
    order = shopify.map_order(
        shopify_order(total_discounts="8.97", shipping_lines=[{"code": "Express", "price": "5.90"}])
    ).order
    assert (order.shipping_charge, order.discount) == (Decimal("5.90"), Decimal("8.97"))
    assert order.total() == Decimal("86.63")


def test_a_discount_larger_than_the_lines_left_after_an_edit_is_what_they_are_worth() -> None:
    payload = shopify_order(total_discounts="60.00")
    payload["line_items"][1]["current_quantity"] = 0
    order = shopify.map_order(payload).order
    assert (order.discount, order.total()) == (Decimal("49.80"), Decimal(0))


def test_shopify_orders_updated_after_an_edit_asks_for_every_line_as_it_is_now() -> None:
    """Shopify keeps a removed line with `current_quantity` 0 and adds new ones."""
    payload = shopify_order(updated_at="2026-01-31T15:00:00+01:00")
    payload["line_items"][0]["current_quantity"] = 1
    payload["line_items"][1]["current_quantity"] = 0
    payload["line_items"].append({"id": 1, "sku": "SOCK-GRY", "quantity": 3, "current_quantity": 3, "price": "7.50"})
    payload["shipping_address"]["address1"] = "Kastanienallee 7"
    update = shopify.map_update(payload)
    change = data_of(update)[LINES]
    assert change.lines == (
        LineChange(sku="TEE-BLK-M", qty=1, unit_price=Decimal("24.90")),
        LineChange(sku="TOTE-NAT", qty=0, unit_price=Decimal("39.90")),
        LineChange(sku="SOCK-GRY", qty=3, unit_price=Decimal("7.50")),
    )
    assert change.shipping_address.line1 == "Kastanienallee 7"
    assert update.order is not None, "an order first seen now is placed as it is now"
    assert {line.sku: line.qty for line in update.order.order.lines} == {"TEE-BLK-M": 1, "SOCK-GRY": 3}


def test_shopify_orders_cancelled_is_a_cancel_request_and_the_refund_it_lists() -> None:
    refund = sample("shopify_refund.json")
    refund["transactions"][0]["amount"] = "89.70"
    payload = shopify_order(
        financial_status="refunded",
        cancelled_at="2026-02-01T09:00:00+01:00",
        cancel_reason="customer",
        updated_at="2026-02-01T09:00:01+01:00",
        refunds=[refund],
    )
    facts = data_of(shopify.map_update(payload))
    assert LINES not in facts, "the cancellation says it: no change request besides"
    assert facts["cancel"] == OrderCancelRequested(order_id=SHOP_ORDER, reason="cancelled in Shopify (customer)")
    assert facts["refund:929361464"].amount == Decimal("89.70")


def test_shopify_refunds_create_reports_the_refund_against_the_shops_payment() -> None:
    update = shopify.map_refund(sample("shopify_refund.json"))
    assert update.external_id == "5624593694771" and update.order is None
    assert data_of(update) == {
        "refund:929361464": RefundReported(
            order_id=SHOP_ORDER,
            payment_id=SHOP_PAYMENT,
            refund_id="929361464",
            amount=Decimal("39.90"),
            currency="EUR",
            reason="Tote arrived damaged",
        )
    }


def test_a_refund_an_order_lists_is_that_orders_but_refunds_create_must_name_its_order() -> None:
    refund = sample("shopify_refund.json")
    del refund["order_id"]
    listed = data_of(shopify.map_update(shopify_order(financial_status="partially_refunded", refunds=[refund])))
    assert listed["refund:929361464"].order_id == SHOP_ORDER
    with pytest.raises(PayloadInvalid) as caught:
        shopify.map_refund(refund)
    assert [error.field for error in caught.value.errors] == ["order_id"]


def test_a_shopify_refund_that_gave_no_money_back_reports_nothing() -> None:
    refund = sample("shopify_refund.json")
    refund["transactions"][0]["status"] = "failure"
    assert shopify.map_refund(refund).facts == ()
    assert shopify.map_refund(refund | {"transactions": []}).facts == ()


def test_a_shopify_refund_without_a_currency_names_the_field() -> None:
    refund = sample("shopify_refund.json")
    del refund["transactions"][0]["currency"]
    with pytest.raises(PayloadInvalid) as caught:
        shopify.map_refund(refund)
    assert [error.field for error in caught.value.errors] == ["transactions.0.currency"]


def test_topics_route_to_their_mapper_and_an_unknown_topic_names_the_header() -> None:
    assert update_mapper(shopify.CHANNEL, None) is shopify.map_update  # type: ignore[arg-type]
    assert update_mapper(shopify.CHANNEL, "orders/paid") is shopify.map_update  # type: ignore[arg-type]
    assert update_mapper(shopify.CHANNEL, "refunds/create") is shopify.map_refund  # type: ignore[arg-type]
    assert update_mapper(woocommerce.CHANNEL, "order.updated") is woocommerce.map_update  # type: ignore[arg-type]
    with pytest.raises(PayloadInvalid) as caught:
        update_mapper(shopify.CHANNEL, "orders/delete")  # type: ignore[arg-type]
    assert [error.field for error in caught.value.errors] == ["X-Shopify-Topic"]


# --- WooCommerce --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["processing", "completed"])
def test_woocommerce_paid_status_is_the_shops_payment(status: str) -> None:
    update = woocommerce.map_update(woo_order(status=status, payment_method_title="Direct Bank Transfer"))
    assert data_of(update)["payment:woocommerce:727"] == OrderPaid(
        order_id=WOO_ORDER,
        amount=Decimal("51.80"),
        method="Direct Bank Transfer",
        payment_id="woocommerce:727",
        currency="USD",
    )
    assert update.order is not None and update.order.order.payment_id == "woocommerce:727"


def test_woocommerce_cancelled_is_a_cancel_request_without_a_change() -> None:
    facts = data_of(woocommerce.map_update(woo_order(status="cancelled")))
    assert facts == {"cancel": OrderCancelRequested(order_id=WOO_ORDER, reason="cancelled in WooCommerce")}


def test_woocommerce_refunded_reports_each_refund_it_lists() -> None:
    refunds = [{"id": 731, "reason": "damaged", "total": "-10.00"}, {"id": 732, "reason": "", "total": "-41.80"}]
    facts = data_of(woocommerce.map_update(woo_order(status="refunded", refunds=refunds)))
    assert [(f.refund_id, f.amount, f.reason) for f in facts.values() if isinstance(f, RefundReported)] == [
        ("731", Decimal("10.00"), "damaged"),
        ("732", Decimal("41.80"), "refunded in WooCommerce"),
    ]
    assert facts["payment:woocommerce:727"].amount == Decimal("51.80"), "refunded: it was paid"


# --- what is new: re-delivery, a new update, stale and smaller reports -------------------------------


def test_a_redelivered_webhook_has_the_same_event_ids_and_once_published_says_nothing_new() -> None:
    paid = shopify_order(financial_status="paid", updated_at="2026-01-31T13:46:02+01:00")
    first, again = shopify.map_update(paid), shopify.map_update(copy.deepcopy(paid))
    ids = [fact_event_id("shopify", "5624593694771", value) for _, value in new_facts(first, {}, placing=False).publish]
    ids_again = [fact_event_id("shopify", "5624593694771", v) for _, v in new_facts(again, {}, placing=False).publish]
    assert ids == ids_again and len(ids) == 2
    assert published(again, remembered(first)) == []


def test_a_new_update_is_a_new_event_only_for_what_changed() -> None:
    before = remembered(shopify.map_update(shopify_order()), placing=True)
    tagged = shopify.map_update(shopify_order(updated_at="2026-01-31T14:00:00+01:00", tags="vip"))
    assert published(tagged, before) == [], "a tag is nothing the pipeline acts on"
    edited = shopify_order(updated_at="2026-01-31T14:05:00+01:00")
    edited["line_items"][0]["current_quantity"] = 1
    [change] = published(shopify.map_update(edited), before)
    assert isinstance(change, OrderChangeRequested)


def test_lines_back_as_they_were_after_a_change_are_a_new_event() -> None:
    original = shopify.map_update(shopify_order())
    edited_payload = shopify_order(updated_at="2026-01-31T14:05:00+01:00")
    edited_payload["line_items"][0]["current_quantity"] = 1
    edited = shopify.map_update(edited_payload)
    back = shopify.map_update(shopify_order(updated_at="2026-01-31T14:10:00+01:00"))
    state = remembered(original, placing=True) | remembered(edited)
    [(_, value)] = new_facts(back, state, placing=False).publish
    first_value = remembered(original, placing=True)[LINES]
    assert value.fingerprint == first_value.fingerprint
    assert fact_event_id("shopify", "x", value) != fact_event_id("shopify", "x", first_value)


def test_an_older_delivery_than_the_one_published_is_not_applied_over_it() -> None:
    newer = shopify_order(updated_at="2026-01-31T15:00:00+01:00")
    newer["line_items"][0]["current_quantity"] = 1
    older = shopify.map_update(shopify_order(updated_at="2026-01-31T14:00:00+01:00"))
    assert published(older, remembered(shopify.map_update(newer))) == []


def test_a_payment_report_of_less_or_an_authorization_after_the_capture_is_no_news() -> None:
    paid = remembered(shopify.map_update(shopify_order(financial_status="paid")))
    shrunk = shopify_order(financial_status="partially_refunded", updated_at="2026-02-01T10:00:00+01:00")
    shrunk["line_items"][1]["current_quantity"] = 0
    assert [type(data) for data in published(shopify.map_update(shrunk), paid)] == [OrderChangeRequested]
    authorized = shopify.map_update(shopify_order(financial_status="authorized", updated_at="2026-02-02T00:00:00Z"))
    assert [type(data) for data in published(authorized, paid)] == []


def test_a_capture_after_the_authorization_is_news() -> None:
    authorized = remembered(shopify.map_update(shopify_order(financial_status="authorized")))
    captured = shopify.map_update(shopify_order(financial_status="paid", updated_at="2026-01-31T14:00:00+01:00"))
    [paid] = published(captured, authorized)
    assert isinstance(paid, OrderPaid) and paid.kind == "captured"


def test_placing_from_an_update_publishes_its_payment_not_its_lines() -> None:
    update = shopify.map_update(shopify_order(financial_status="paid"))
    news = new_facts(update, {}, placing=True)
    assert [type(fact.data) for fact, _ in news.publish] == [OrderPaid]
    assert {value.aspect for value in news.remember} == {LINES, f"payment:{SHOP_PAYMENT}"}


def test_a_line_woocommerce_dropped_from_the_order_is_asked_to_go() -> None:
    before = remembered(woocommerce.map_update(woo_order()), placing=True)
    payload = woo_order(date_modified_gmt="2026-01-31T14:00:00")
    del payload["line_items"][1]
    [change] = published(woocommerce.map_update(payload), before)
    assert change.lines == (
        LineChange(sku="WOO-SINGLE-1", qty=2, unit_price=Decimal(6)),
        LineChange(sku="IDEA-BLK", qty=0),
    )
