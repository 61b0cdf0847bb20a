"""Invariants of the order log: every order decided, no effect twice, no cancelled order shipped.

Pure functions over decoded records (`Logged`), in log order per partition. Each returns the violations
it finds, with the records behind them. The stock fold is in `stock`, the shipping hand-offs in `parcels`, the
changelogs in `changelogs`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.audit.findings import (
    CANCELLED_NOT_SHIPPED,
    ORDER_DECIDED,
    SINGLE_EFFECT,
    Logged,
    Violation,
    dead_lettered,
    evidence_of,
    home_events,
)
from events import (
    Event,
    EventData,
    NotificationRequested,
    NotificationSent,
    OrderCancelled,
    OrderPlaced,
    OrderShipped,
    RefundIssued,
    ShipmentDispatched,
    StockReserved,
)

DECISION_TYPES = frozenset(
    {"oms.order.awaiting_payment", "oms.order.backordered", "oms.order.confirmed", "oms.order.cancelled"}
)
"""What the order processor answers a placement with (docs/event-flow.md): one of these, or a dead letter."""

# Which customer messages may repeat, as pipeline/rules decides them (read, not imported: the auditor checks
# the rules from the outside). Once per order: confirmed (its id derives from the placement), cancelled (a
# cancelled order is never cancelled again). Once per parcel: shipped and delivered, whose params carry the
# parcel's tracking number. Once per return received: refunded. Backordered repeats whenever the ETA moves.
ONCE_PER_ORDER_KINDS = frozenset({"confirmed", "cancelled"})
ONCE_PER_PARCEL_KINDS = frozenset({"shipped", "delivered"})
ONCE_PER_CAUSE_KINDS = frozenset({"refunded"})


def orders_without_decision(log: Sequence[Logged], *, now: datetime, grace: timedelta) -> list[Violation]:
    """Placed orders older than `grace` that the order processor neither decided nor dead-lettered."""
    events = home_events(log)
    refused = dead_lettered(events)
    placed: dict[str, Logged] = {}
    decided: set[str] = set()
    for item in events:
        if isinstance(item.event.data, OrderPlaced):
            placed.setdefault(item.event.data.order_id, item)
        elif item.event.type in DECISION_TYPES:
            decided.add(item.event.subject)
    cutoff = now - grace
    return [
        _undecided(order_id, item, now)
        for order_id, item in placed.items()
        if order_id not in decided and item.position not in refused and item.appended_at <= cutoff
    ]


def _undecided(order_id: str, placed: Logged, now: datetime) -> Violation:
    age = (now - placed.appended_at).total_seconds()
    return Violation(
        ORDER_DECIDED,
        order_id,
        f"order {order_id} was placed {age:.0f} s ago and has no decision "
        "(confirmed, backordered, awaiting payment or cancelled) nor a dead letter",
        (evidence_of(placed),),
        {"age_s": round(age, 3)},
    )


def cancelled_orders_shipped(log: Sequence[Logged]) -> list[Violation]:
    """Cancelled orders with a dispatched parcel or an `oms.order.shipped`, whichever came first."""
    cancelled: dict[str, Logged] = {}
    shipping: dict[str, dict[str, Logged]] = {}
    for item in home_events(log):
        data = item.event.data
        if isinstance(data, OrderCancelled):
            cancelled.setdefault(data.order_id, item)
        elif isinstance(data, ShipmentDispatched | OrderShipped):
            shipping.setdefault(data.order_id, {}).setdefault(str(item.event.id), item)
    return [
        _shipped_while_cancelled(order_id, cancel, list(shipping[order_id].values()))
        for order_id, cancel in cancelled.items()
        if shipping.get(order_id)
    ]


def _shipped_while_cancelled(order_id: str, cancel: Logged, shipped: list[Logged]) -> Violation:
    reason = cancel.event.data.reason if isinstance(cancel.event.data, OrderCancelled) else ""
    what = "; ".join(
        f"{item.event.type} {'after' if is_after(item, cancel) else 'before'} the cancellation" for item in shipped
    )
    return Violation(
        CANCELLED_NOT_SHIPPED,
        order_id,
        f"order {order_id} was cancelled ({reason}) yet shipped: {what}",
        (evidence_of(cancel), *(evidence_of(item) for item in shipped)),
    )


def is_after(item: Logged, other: Logged) -> bool:
    """True if `item` came after `other`: by offset on one partition, else by event time."""
    if (item.topic, item.partition) == (other.topic, other.partition):
        return item.offset > other.offset
    return item.event.time >= other.event.time


# --- no effect twice --------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectRule:
    """At most one effect per key: events with different ids and the same key are one effect done twice.

    A new effect (a payment captured, a refund paid through a ledger) is one more rule: its name, what a key
    stands for, and the function that gives an event's key (None for events the rule is not about).
    """

    name: str
    per: str
    key_of: Callable[[Event[EventData]], str | None]


def parcel_of(event: Event[EventData]) -> str | None:
    data = event.data
    return f"order {data.order_id} shipment {data.shipment_id}" if isinstance(data, ShipmentDispatched) else None


def reservation_of(event: Event[EventData]) -> str | None:
    data = event.data
    return f"sku {data.sku} order {data.order_id}" if isinstance(data, StockReserved) else None


def refund_request_of(event: Event[EventData]) -> str | None:
    """A refund pays for the return received that caused it; without a cause, for itself."""
    data = event.data
    if not isinstance(data, RefundIssued):
        return None
    return f"order {data.order_id} return {event.causationid or event.id}"


def notification_key(requests: Mapping[str, Event[EventData]]) -> Callable[[Event[EventData]], str | None]:
    """Keys a sent notification by what it may be sent once for (see the *_KINDS above), through its request."""

    def key_of(event: Event[EventData]) -> str | None:
        data = event.data
        if not isinstance(data, NotificationSent):
            return None
        return f"order {data.order_id} {notification_scope(data, requests.get(data.request_id))}"

    return key_of


def notification_scope(sent: NotificationSent, request: Event[EventData] | None) -> str:
    asked = request.data if request is not None and isinstance(request.data, NotificationRequested) else None
    if sent.kind in ONCE_PER_ORDER_KINDS:
        return f"kind {sent.kind}"
    if sent.kind in ONCE_PER_PARCEL_KINDS and asked is not None and asked.params.get("tracking_number"):
        return f"kind {sent.kind} tracking {asked.params['tracking_number']}"
    if sent.kind in ONCE_PER_CAUSE_KINDS and request is not None and request.causationid:
        return f"kind {sent.kind} cause {request.causationid}"
    return f"request {sent.request_id}"


def single_effect_rules(log: Sequence[Logged]) -> tuple[EffectRule, ...]:
    requests = {str(item.event.id): item.event for item in log if isinstance(item.event.data, NotificationRequested)}
    return (
        EffectRule("dispatch", "parcel", parcel_of),
        EffectRule("reservation", "sku and order", reservation_of),
        EffectRule("refund", "return received", refund_request_of),
        EffectRule("notification", "order and kind", notification_key(requests)),
    )


def effects_repeated(log: Sequence[Logged], rules: Sequence[EffectRule] | None = None) -> list[Violation]:
    """Effects done twice: per rule and key, more than one distinct event id. The same id twice is a
    redelivery (at-least-once), which every consumer drops: not a violation."""
    events = home_events(log)
    rules = rules if rules is not None else single_effect_rules(events)
    groups: dict[tuple[int, str], dict[str, list[Logged]]] = {}
    for item in events:
        for index, rule in enumerate(rules):
            key = rule.key_of(item.event)
            if key is not None:
                groups.setdefault((index, key), {}).setdefault(str(item.event.id), []).append(item)
    return [
        _repeated(rules[index], key, by_id)
        for (index, key), by_id in sorted(groups.items(), key=lambda group: group[0])
        if len(by_id) > 1
    ]


def _repeated(rule: EffectRule, key: str, by_id: dict[str, list[Logged]]) -> Violation:
    records = sum(len(items) for items in by_id.values())
    return Violation(
        SINGLE_EFFECT,
        key,
        f"{len(by_id)} {rule.name} effects (distinct event ids) for one {rule.per}: {key}",
        tuple(evidence_of(items[0]) for items in by_id.values()),
        {"effect": rule.name, "distinct_ids": len(by_id), "records": records},
    )
