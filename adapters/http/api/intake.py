"""The intake use case: mapped channel orders in, each published once, order ids out; a shop's updates of
its orders in, what they say that is new published as payment, change, cancel and refund events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.concurrency import run_in_threadpool

from adapters.http.api.deps import ApiContext
from adapters.http.api.limits import is_nested_too_deep, too_deep
from adapters.http.channels import (
    JSON_MAPPERS,
    Channel,
    ChannelOrder,
    ChannelUpdate,
    FieldError,
    PayloadInvalid,
    order_id_for,
    update_mapper,
)
from adapters.http.channels.csv_upload import map_orders as map_csv_orders
from adapters.http.channels.updates import fact_event_id, new_facts
from events import Event, EventData, natural_id, new_event

SOURCE = "oms/intake/{}"


@dataclass(frozen=True)
class Accepted:
    external_id: str
    order_id: str
    duplicate: bool


def mapped_orders(channel: Channel, body: bytes, received_at: datetime) -> list[ChannelOrder]:
    if channel is Channel.csv:
        return map_csv_orders(_text(body), received_at=received_at)
    return [JSON_MAPPERS[channel](_json(body))]


def mapped_update(channel: Channel, topic: str | None, body: bytes) -> ChannelUpdate:
    """A shop's webhook (Shopify, WooCommerce) of `topic` (absent: its order-created topic), mapped."""
    mapper = update_mapper(channel, topic)
    return mapper(_json(body))


def placed_event(channel: Channel, order: ChannelOrder, now: datetime) -> Event[Any]:
    """Its id is a function of the channel order: a re-publish after a crash repeats the same id."""
    event_id = placement_id(channel, order.external_id)
    return new_event(order.order, source=SOURCE.format(channel.value), id=event_id, time=now)


def placement_id(channel: Channel, external_id: str) -> uuid.UUID:
    return natural_id("intake", channel.value, external_id)


async def accept_orders(context: ApiContext, channel: Channel, orders: Sequence[ChannelOrder]) -> list[Accepted]:
    """Publish the orders not seen before, then remember them; answer every order's id."""
    store = context.intake_store
    known = await run_in_threadpool(store.known, channel.value, [order.external_id for order in orders])
    fresh = list({o.external_id: o for o in orders if o.external_id not in known}.values())
    if fresh:
        now = context.clock()
        await context.publisher.publish([placed_event(channel, order, now) for order in fresh])
        await run_in_threadpool(store.remember, channel.value, [(o.external_id, o.order.order_id) for o in fresh])
    return [Accepted(o.external_id, known.get(o.external_id, o.order.order_id), o.external_id in known) for o in orders]


async def accept_update(context: ApiContext, channel: Channel, update: ChannelUpdate) -> Accepted:
    """Place the order if it never was, then publish what the update says that was not published before;
    remember both once published. `duplicate`: nothing new was published."""
    store = context.intake_store
    external_id = update.external_id
    known = await run_in_threadpool(store.known, channel.value, [external_id])
    published = await run_in_threadpool(store.published_facts, channel.value, external_id)
    placing = update.order if update.order is not None and external_id not in known else None
    news = new_facts(update, published, placing=placing is not None)
    now = context.clock()
    events = [placed_event(channel, placing, now)] if placing is not None else []
    correlation = str(placement_id(channel, external_id))  # every event of an order shares its placement's
    for fact, value in news.publish:
        fact_id = fact_event_id(channel.value, external_id, value)
        events.append(
            new_event(fact.data, source=SOURCE.format(channel.value), id=fact_id, time=now, correlationid=correlation)
        )
    if events:
        await context.publisher.publish(events)
    if placing is not None:
        await run_in_threadpool(store.remember, channel.value, [(external_id, placing.order.order_id)])
    if news.remember:
        await run_in_threadpool(store.remember_facts, channel.value, external_id, news.remember)
    order_id = known.get(external_id) or order_id_for(channel.value, external_id)
    return Accepted(external_id, order_id, duplicate=not events)


async def publish_action(
    context: ApiContext, data: EventData, *, source: str, dedup_key: str | None = None, actor: str | None = None
) -> Event[Any]:
    """Publish one ops or webhook event, naming the `actor` who asked for it. With a `dedup_key` a retried request
    repeats the same event id."""
    event_id = natural_id(data.event_type, data.partition_key(), dedup_key) if dedup_key else uuid.uuid4()
    event = new_event(data, source=source, id=event_id, time=context.clock(), actor=actor)
    await context.publisher.publish([event])
    return event


def _json(body: bytes) -> Any:
    """The body parsed, checked for depth first: it may come without a JSON content type, which the
    middleware's check goes by, and the parser recurses once per level."""
    if is_nested_too_deep(body):
        raise too_deep()
    try:
        return json.loads(body, parse_float=Decimal)  # prices stay exact, never floats
    except (ValueError, UnicodeDecodeError):
        raise PayloadInvalid([FieldError("(body)", "is not valid JSON")]) from None


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PayloadInvalid([FieldError("(file)", "must be UTF-8 text", 1)]) from None
