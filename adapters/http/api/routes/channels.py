"""Channel intake: orders from web shops, POS and ops uploads become `oms.order.placed` events; the shops'
later webhooks about them (paid, updated, cancelled, refunded) become payment, change, cancel and refund
events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from adapters.http.api.deps import BEARER_CHALLENGE, BearerCredentials, Context, has_ops_key, has_valid_signature
from adapters.http.api.errors import Unauthorized, UnsupportedMediaType, problem_responses
from adapters.http.api.intake import accept_orders, accept_update, mapped_orders, mapped_update
from adapters.http.api.schemas import CsvOrderAccepted, IntakeAccepted
from adapters.http.channels import (
    SIGNED_CHANNELS,
    TOPIC_HEADERS,
    UPDATE_MAPPERS,
    Channel,
    csv_upload,
    native,
    pos,
    shopify,
    woocommerce,
)
from adapters.http.channels.signatures import SIGNATURE_HEADERS

router = APIRouter(prefix="/api/v1/channels", tags=["intake"])

_JSON_EXAMPLES = {
    **{
        name: {"summary": f"{name} order", "value": module.EXAMPLE}
        for name, module in (("shopify", shopify), ("woocommerce", woocommerce), ("pos", pos), ("native", native))
    },
    "shopify_refund": {"summary": "shopify refund (X-Shopify-Topic: refunds/create)", "value": shopify.REFUND_EXAMPLE},
}
_TOPICS = {channel: ", ".join(f"`{topic}`" for topic in topics) for channel, topics in UPDATE_MAPPERS.items()}
ShopifyTopic = Annotated[
    str | None,
    Header(
        alias=TOPIC_HEADERS[Channel.shopify],
        max_length=100,
        description=f"Shopify's webhook topic: {_TOPICS[Channel.shopify]}. Absent: `orders/create`.",
    ),
]
WooTopic = Annotated[
    str | None,
    Header(
        alias=TOPIC_HEADERS[Channel.woocommerce],
        max_length=100,
        description=f"WooCommerce's webhook topic: {_TOPICS[Channel.woocommerce]}. Absent: `order.created`.",
    ),
]
_OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}, "examples": _JSON_EXAMPLES},
            "text/csv": {"schema": {"type": "string"}, "example": csv_upload.EXAMPLE},
        },
    }
}


@router.post(
    "/{channel}/orders",
    status_code=202,
    response_model=IntakeAccepted | list[CsvOrderAccepted],
    responses=problem_responses(401, 413, 415, 422, 503),
    openapi_extra=_OPENAPI_BODY,
    summary="Accept an order from a channel",
)
async def place_orders(
    channel: Channel,
    request: Request,
    context: Context,
    credentials: BearerCredentials,
    shopify_topic: ShopifyTopic = None,
    woocommerce_topic: WooTopic = None,
) -> IntakeAccepted | list[CsvOrderAccepted]:
    """Shopify, WooCommerce and native JSON are webhooks signed with the channel secret
    (`OMS_CHANNEL_SECRET_<CHANNEL>`): `X-Shopify-Hmac-Sha256`, `X-WC-Webhook-Signature`, `X-OMS-Signature`,
    each base64(HMAC-SHA256(raw body)). POS sales and CSV uploads (`text/csv`, phone and email orders) are
    ops uploads and carry an ops API key instead. The same channel order sent again answers the same
    order id and publishes nothing new.

    Shopify and WooCommerce send every webhook about an order here, its topic in `X-Shopify-Topic` or
    `X-WC-Webhook-Topic`. Each order webhook carries the whole order: one never placed is placed, and what
    it says that was not published before becomes an event: a payment (`oms.order.paid`), new lines or
    address (`oms.order.change_requested`), a cancellation (`oms.order.cancel_requested`), a refund made at
    the shop (`oms.refund.reported`, also from Shopify's `refunds/create`). `duplicate`: nothing new.
    """
    body = await request.body()  # at most limits.MAX_BODY_BYTES: the app's middleware refuses more
    _authorize(channel, request, body, context, credentials)
    if channel is Channel.csv and request.headers.get("content-type", "").split(";")[0].strip() != "text/csv":
        raise UnsupportedMediaType("CSV uploads must be sent as text/csv.")
    if channel in TOPIC_HEADERS:
        topic = shopify_topic if channel is Channel.shopify else woocommerce_topic
        update = await accept_update(context, channel, mapped_update(channel, topic, body))
        return IntakeAccepted(order_id=update.order_id, duplicate=update.duplicate)
    orders = mapped_orders(channel, body, context.clock())
    accepted = await accept_orders(context, channel, orders)
    if channel is Channel.csv:
        return [CsvOrderAccepted(order_ref=a.external_id, order_id=a.order_id, duplicate=a.duplicate) for a in accepted]
    return IntakeAccepted(order_id=accepted[0].order_id, duplicate=accepted[0].duplicate)


def _authorize(
    channel: Channel, request: Request, body: bytes, context: Context, credentials: BearerCredentials
) -> None:
    if channel not in SIGNED_CHANNELS:
        if not has_ops_key(context.settings, credentials):
            raise Unauthorized(f"{channel.value} uploads need an ops API key.", headers=BEARER_CHALLENGE)
        return
    if not has_valid_signature(context.settings, channel.value, body, request.headers):
        raise Unauthorized(f"Missing or wrong {SIGNATURE_HEADERS[channel.value]} signature.")
