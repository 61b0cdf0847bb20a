"""Every parcel asked for leaves, and every parcel that left is applied to its order.

Two invariants over the shipping hand-offs (docs/event-flow.md), each within the grace period:
- `shipment_dispatched`: an `oms.shipment.requested` is answered by the shipping processor, with an
  `oms.shipment.dispatched` of that shipment id or a `carrier_failed` dead letter of the request;
- `dispatch_applied`: an `oms.shipment.dispatched` is applied by the order processor (`oms.order.shipped` of that
  shipment id) and the parcel's stock is committed (`oms.stock.committed` for each of its skus). A dispatch the
  order processor dead-lettered is reported at once, whatever its age: a parcel left for an order that refused it.

Parcels are told apart by order id and shipment id; a redelivered request or dispatch is the same parcel.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from adapters.audit.findings import (
    DISPATCH_APPLIED,
    INVENTORY_PROCESSOR,
    ORDER_PROCESSOR,
    SHIPMENT_DISPATCHED,
    SHIPPING_PROCESSOR,
    Logged,
    Violation,
    dead_letters_at,
    evidence_of,
    home_events,
)
from events import (
    DeadLetterRecorded,
    OrderShipped,
    ShipmentDispatched,
    ShipmentRequested,
    StockCommitRequested,
    StockCommitted,
)

ANSWERED_BY_DEAD_LETTER = "carrier_failed"
"""The one dead letter that answers a shipment request: the carrier could not book it (after its retries)."""

Parcel = tuple[str, str]  # order id, shipment id


def shipments_not_dispatched(log: Sequence[Logged], *, now: datetime, grace: timedelta) -> list[Violation]:
    """Shipment requests older than `grace` with neither a dispatch nor a `carrier_failed` dead letter."""
    events = home_events(log)
    letters = dead_letters_at(events, processor=SHIPPING_PROCESSOR)
    requested: dict[Parcel, list[Logged]] = {}
    dispatched: set[Parcel] = set()
    for item in events:
        data = item.event.data
        if isinstance(data, ShipmentRequested):
            requested.setdefault((data.order_id, data.shipment_id), []).append(item)
        elif isinstance(data, ShipmentDispatched):
            dispatched.add((data.order_id, data.shipment_id))
    violations = []
    for parcel, requests in requested.items():
        refusals = [letters[item.position] for item in requests if item.position in letters]
        answered = any(_kind(letter) == ANSWERED_BY_DEAD_LETTER for letter in refusals)
        if parcel in dispatched or answered or requests[0].appended_at > now - grace:
            continue
        violations.append(_not_dispatched(parcel, requests[0], refusals, now))
    return violations


def _not_dispatched(parcel: Parcel, request: Logged, refusals: list[Logged], now: datetime) -> Violation:
    order_id, shipment_id = parcel
    age = (now - request.appended_at).total_seconds()
    why = "; ".join(f"the shipping processor dead-lettered it: {_kind(letter)}" for letter in refusals)
    return Violation(
        SHIPMENT_DISPATCHED,
        f"{order_id} {shipment_id}",
        f"parcel {shipment_id} of order {order_id} was requested {age:.0f} s ago and neither dispatched nor "
        f"refused by the carrier (carrier_failed){f' ({why})' if why else ''}",
        (evidence_of(request), *(evidence_of(letter) for letter in refusals)),
        {"age_s": round(age, 3)},
    )


def dispatches_not_applied(log: Sequence[Logged], *, now: datetime, grace: timedelta) -> list[Violation]:
    """Dispatches the order processor refused; and, older than `grace`, dispatches without their
    `oms.order.shipped` or without an `oms.stock.committed` for each sku of the parcel."""
    events = home_events(log)
    refused = dead_letters_at(events, processor=ORDER_PROCESSOR)
    dispatches: dict[Parcel, list[Logged]] = {}
    skus: dict[Parcel, list[str]] = {}
    shipped: set[Parcel] = set()
    for item in events:
        data = item.event.data
        if isinstance(data, ShipmentDispatched):
            dispatches.setdefault((data.order_id, data.shipment_id), []).append(item)
            skus.setdefault((data.order_id, data.shipment_id), [line.sku for line in data.lines])
        elif isinstance(data, OrderShipped):
            shipped.add((data.order_id, data.shipment_id))
    stock = _StockHandOff(events)
    violations = []
    for parcel, copies in dispatches.items():
        letters = [refused[item.position] for item in copies if item.position in refused]
        if parcel not in shipped and letters:
            violations.append(_refused_dispatch(parcel, copies[0], letters))
        elif copies[0].appended_at > now - grace:
            continue
        elif parcel not in shipped:
            violations.append(_never_shipped(parcel, copies[0], now))
        elif uncommitted := stock.uncommitted(parcel[0], skus[parcel]):
            violations.append(_never_committed(parcel, copies[0], uncommitted, stock, now))
    return violations


class _StockHandOff:
    """Per (order id, sku): the commit requests and commits on `oms.inventory`, and the inventory processor's dead
    letters of the requests it refused."""

    def __init__(self, events: Sequence[Logged]) -> None:
        self.refused = dead_letters_at(events, processor=INVENTORY_PROCESSOR)
        self.records: dict[tuple[str, str], list[Logged]] = {}
        for item in events:
            data = item.event.data
            if isinstance(data, StockCommitRequested | StockCommitted):
                self.records.setdefault((data.order_id, data.sku), []).append(item)

    def uncommitted(self, order_id: str, skus: Sequence[str]) -> list[str]:
        """Those of `skus` with no `oms.stock.committed` for the order."""
        return [sku for sku in skus if not self._is_committed(order_id, sku)]

    def _is_committed(self, order_id: str, sku: str) -> bool:
        return any(isinstance(item.event.data, StockCommitted) for item in self.records.get((order_id, sku), []))

    def behind(self, order_id: str, skus: Sequence[str]) -> list[Logged]:
        """The commit requests of these skus, each followed by its dead letter if it was refused."""
        found = []
        for sku in skus:
            for item in self.records.get((order_id, sku), []):
                found.append(item)
                if item.position in self.refused:
                    found.append(self.refused[item.position])
        return found


def _refused_dispatch(parcel: Parcel, dispatch: Logged, letters: list[Logged]) -> Violation:
    order_id, shipment_id = parcel
    why = "; ".join(f"{_kind(letter)}: {_reason(letter)}" for letter in letters)
    return Violation(
        DISPATCH_APPLIED,
        f"{order_id} {shipment_id}",
        f"parcel {shipment_id} left for order {order_id}, which refused it: the order processor dead-lettered "
        f"its dispatch ({why})",
        (evidence_of(dispatch), *(evidence_of(letter) for letter in letters)),
        {"refused": True},
    )


def _never_shipped(parcel: Parcel, dispatch: Logged, now: datetime) -> Violation:
    order_id, shipment_id = parcel
    age = (now - dispatch.appended_at).total_seconds()
    return Violation(
        DISPATCH_APPLIED,
        f"{order_id} {shipment_id}",
        f"parcel {shipment_id} of order {order_id} was dispatched {age:.0f} s ago and the order processor never "
        "applied it (no oms.order.shipped)",
        (evidence_of(dispatch),),
        {"age_s": round(age, 3)},
    )


def _never_committed(
    parcel: Parcel, dispatch: Logged, uncommitted: list[str], stock: _StockHandOff, now: datetime
) -> Violation:
    order_id, shipment_id = parcel
    age = (now - dispatch.appended_at).total_seconds()
    return Violation(
        DISPATCH_APPLIED,
        f"{order_id} {shipment_id}",
        f"parcel {shipment_id} of order {order_id} left {age:.0f} s ago and its stock was never committed: "
        f"{', '.join(uncommitted)} (no oms.stock.committed)",
        (evidence_of(dispatch), *(evidence_of(item) for item in stock.behind(order_id, uncommitted))),
        {"uncommitted": uncommitted, "age_s": round(age, 3)},
    )


def _kind(letter: Logged) -> str:
    data = letter.event.data
    return data.kind if isinstance(data, DeadLetterRecorded) else ""


def _reason(letter: Logged) -> str:
    data = letter.event.data
    return data.reason if isinstance(data, DeadLetterRecorded) else ""
