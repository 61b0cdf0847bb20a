"""Channel payload mappers: one pure module per channel, each turning its payload into `OrderPlaced`."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from adapters.channels import native, pos, shopify, woocommerce
from adapters.channels.common import ChannelOrder, FieldError, PayloadInvalid, order_id_for


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

__all__ = ["JSON_MAPPERS", "SIGNED_CHANNELS", "Channel", "ChannelOrder", "FieldError", "PayloadInvalid", "order_id_for"]
