"""Channel payload mappers: one pure module per channel, each turning its payload into `OrderPlaced`, and
for the shops' webhooks (Shopify, WooCommerce) into a `ChannelUpdate` by webhook topic."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from adapters.http.channels import native, pos, shopify, woocommerce
from adapters.http.channels.common import (
    ChannelFact,
    ChannelOrder,
    ChannelUpdate,
    FieldError,
    PayloadInvalid,
    order_id_for,
)


class Channel(StrEnum):
    shopify = "shopify"
    woocommerce = "woocommerce"
    pos = "pos"
    native = "native"
    csv = "csv"


JSON_MAPPERS: dict[Channel, Callable[[Any], ChannelOrder]] = {
    Channel.shopify: shopify.map_order,
    Channel.woocommerce: woocommerce.map_order,
    Channel.pos: pos.map_order,
    Channel.native: native.map_order,
}

SIGNED_CHANNELS = frozenset({Channel.shopify, Channel.woocommerce, Channel.native})
"""Webhooks from outside sign their body; POS and CSV are ops uploads and carry an ops API key instead."""

TOPIC_HEADERS: dict[Channel, str] = {Channel.shopify: "X-Shopify-Topic", Channel.woocommerce: "X-WC-Webhook-Topic"}
"""The header a shop names its webhook's topic in. Absent: the shop's order-created topic."""
SHOPIFY_ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
)
UPDATE_MAPPERS: dict[Channel, dict[str, Callable[[Any], ChannelUpdate]]] = {
    Channel.shopify: {
        **dict.fromkeys(SHOPIFY_ORDER_TOPICS, shopify.map_update),
        "refunds/create": shopify.map_refund,
    },
    Channel.woocommerce: {"order.created": woocommerce.map_update, "order.updated": woocommerce.map_update},
}
"""Per shop and webhook topic, the mapper of its payload; the first topic is the one meant without a header."""


def update_mapper(channel: Channel, topic: str | None) -> Callable[[Any], ChannelUpdate]:
    """The mapper of a shop's webhook topic; `PayloadInvalid` naming the topic header for one we do not take."""
    by_topic = UPDATE_MAPPERS[channel]
    mapper = by_topic.get(topic or next(iter(by_topic)))
    if mapper is None:
        taken = ", ".join(by_topic)
        raise PayloadInvalid([FieldError(TOPIC_HEADERS[channel], f"is not a topic this intake takes ({taken})")])
    return mapper


__all__ = [
    "JSON_MAPPERS",
    "SIGNED_CHANNELS",
    "TOPIC_HEADERS",
    "UPDATE_MAPPERS",
    "Channel",
    "ChannelFact",
    "ChannelOrder",
    "ChannelUpdate",
    "FieldError",
    "PayloadInvalid",
    "order_id_for",
    "update_mapper",
]
