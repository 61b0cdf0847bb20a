"""From reserved lines to delivered parcels: stock replies, confirmation, shipments, delivery."""

from __future__ import annotations

from datetime import datetime

from events import (
    BackorderedLine,
    LineQty,
    OrderBackordered,
    OrderConfirmed,
    OrderDelivered,
    OrderLine,
    OrderShipped,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentRequested,
    StockCommitRequested,
    StockReservationFailed,
    StockReserved,
)
from pipeline.rules.common import Outputs, Rejected
from pipeline.rules.order_state import (
    OrderState,
    Shipment,
    iso_date,
    notice,
    shipment_id_for,
    with_settled_status,
)

Outcome = tuple[OrderState, Outputs]


def reserve_line(state: OrderState, data: StockReserved, *, split: bool) -> Outcome:
    """A line got its stock (at once or from backorder); ship what can ship."""
    state.line(data.sku)  # rejects a sku the order does not have
    if state.is_cancelled or data.sku in state.reserved:
        return state, ()
    backordered = {sku: eta for sku, eta in state.backordered.items() if sku != data.sku}
    reserved = state.model_copy(update={"reserved": (*state.reserved, data.sku), "backordered": backordered})
    return request_shipments(with_settled_status(reserved), split=split)


def backorder_line(state: OrderState, data: StockReservationFailed) -> Outcome:
    """A line waits for stock (or its ETA moved): tell the customer when the picture changed."""
    state.line(data.sku)  # rejects a sku the order does not have
    if state.is_cancelled or data.sku in state.reserved:
        return state, ()
    backordered = {**state.backordered, data.sku: data.eta}
    return announce_backorder(with_settled_status(state.model_copy(update={"backordered": backordered})))


def announce_backorder(state: OrderState) -> Outcome:
    lines = tuple(
        BackorderedLine(sku=line.sku, qty=line.qty, eta=state.backordered[line.sku])
        for line in state.order.lines
        if line.sku in state.backordered
    )
    if not lines or lines == state.announced_backorder:
        return state, ()
    eta = order_eta(lines)
    params = {"eta": iso_date(eta)} if eta is not None else {}
    outputs: Outputs = (
        ("backordered", OrderBackordered(order_id=state.order_id, eta=eta, lines=lines)),
        ("notify:backordered", notice(state, "backordered", **params)),
    )
    return state.model_copy(update={"announced_backorder": lines}), outputs


def order_eta(lines: tuple[BackorderedLine, ...]) -> datetime | None:
    """When the whole order can ship: the latest line ETA, or None if any line's is unknown."""
    etas = [line.eta for line in lines]
    known = [eta for eta in etas if eta is not None]
    return max(known) if known and len(known) == len(etas) else None


def request_shipments(state: OrderState, *, split: bool) -> Outcome:
    """Once paid: ship every line together (complete policy) or each reserved line at once (split).

    The first shipment request confirms the order.
    """
    if not state.paid or state.is_cancelled:
        return state, ()
    requested = state.requested_skus()
    ready = [line for line in state.order.lines if line.sku in state.reserved and line.sku not in requested]
    waiting = len(state.reserved) < len(state.order.lines)
    if not ready or (waiting and not (split or state.is_split)):
        return state, ()
    return _request_shipment(state, ready)


def _request_shipment(state: OrderState, lines: list[OrderLine]) -> Outcome:
    first = not state.shipments
    shipment = Shipment(shipment_id=shipment_id_for(state.order_id, len(state.shipments) + 1), skus=_skus(lines))
    request = ShipmentRequested(
        order_id=state.order_id,
        shipment_id=shipment.shipment_id,
        lines=tuple(LineQty(sku=line.sku, qty=line.qty) for line in lines),
        shipping_address=state.order.shipping_address,
    )
    shipped = (f"ship:{shipment.shipment_id}", request)
    state = with_settled_status(state.with_shipment(shipment))
    if not first:
        return state, (shipped,)
    confirmed = OrderConfirmed(order_id=state.order_id, skus=shipment.skus)
    return state, (("confirmed", confirmed), shipped, ("notify:confirmed", notice(state, "confirmed")))


def dispatch(state: OrderState, data: ShipmentDispatched) -> Outcome:
    """The parcel left: the order is shipped and its reserved units leave the shelf."""
    shipment = _requested(state, data.shipment_id)
    if shipment.dispatched:
        return state, ()
    if state.is_cancelled:
        raise Rejected(
            f"shipment {data.shipment_id} was dispatched after order {state.order_id} was cancelled "
            f"({state.cancel_reason}); its stock was released: stop or recall the parcel"
        )
    state = state.with_shipment(shipment.model_copy(update={"tracking_number": data.tracking_number}))
    if not state.has_shipped:
        state = state.model_copy(update={"status": "shipped"})
    shipped = OrderShipped(
        order_id=state.order_id,
        shipment_id=data.shipment_id,
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        tracking_url=data.tracking_url,
        complete=state.is_fully_dispatched(),
    )
    tracking = {"tracking_url": data.tracking_url, "tracking_number": data.tracking_number, "carrier": data.carrier}
    commits = tuple(
        (f"commit:{sku}", StockCommitRequested(sku=sku, order_id=state.order_id, qty=state.line(sku).qty))
        for sku in shipment.skus
    )
    return state, (("shipped", shipped), *commits, ("notify:shipped", notice(state, "shipped", **tracking)))


def deliver(state: OrderState, data: ShipmentDelivered) -> Outcome:
    """The carrier delivered a parcel; the order is delivered once everything was shipped and delivered."""
    shipment = state.shipment_tracked_as(data.tracking_number)
    if shipment is None:
        raise Rejected(
            f"order {state.order_id} ({state.status}) has no shipment with tracking number {data.tracking_number}"
        )
    if shipment.delivered:
        return state, ()
    state = state.with_shipment(shipment.model_copy(update={"delivered": True}))
    if state.status == "shipped" and state.is_fully_dispatched() and all(s.delivered for s in state.shipments):
        state = state.model_copy(update={"status": "delivered"})
    delivered = OrderDelivered(order_id=state.order_id, delivered_at=data.delivered_at)
    params = {"tracking_number": data.tracking_number, "delivered_at": iso_date(data.delivered_at)}
    return state, (("delivered", delivered), ("notify:delivered", notice(state, "delivered", **params)))


def _requested(state: OrderState, shipment_id: str) -> Shipment:
    shipment = state.shipment(shipment_id)
    if shipment is None:
        raise Rejected(f"order {state.order_id} never requested shipment {shipment_id}")
    return shipment


def _skus(lines: list[OrderLine]) -> tuple[str, ...]:
    return tuple(line.sku for line in lines)
