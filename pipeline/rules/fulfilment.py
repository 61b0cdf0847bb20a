"""From reserved lines to delivered parcels: stock replies, confirmation, shipments or the till, delivery."""

from __future__ import annotations

from datetime import datetime

from events import (
    BackorderedLine,
    LineQty,
    OrderBackorderCleared,
    OrderBackordered,
    OrderConfirmed,
    OrderDelivered,
    OrderHandedOver,
    OrderShipped,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentRequested,
    StockCommitRequested,
    StockReservationFailed,
    StockReserved,
)
from pipeline.rules.common import Outputs, Rejected
from pipeline.rules.money import ZERO
from pipeline.rules.order_payments import capture_shipped
from pipeline.rules.order_state import Line, OrderState, Shipment, shipment_id_for
from pipeline.rules.order_status import is_covered, iso_date, notify

Outcome = tuple[OrderState, Outputs]


def reserve_line(state: OrderState, data: StockReserved) -> Outcome:
    """A line got its stock (at once or from backorder). Answers to an older request of a changed line,
    and answers for a cancelled line or order (their release is on the way), change nothing."""
    line = state.line(data.sku)
    if _is_stale(state, line, data.revision) or line.stock == "reserved":
        return state, ()
    reserved = state.with_line(line.model_copy(update={"stock": "reserved", "eta": None}))
    if line.stock != "backordered":
        return reserved, ()
    # No longer announced as waiting: should it wait again (a change), the customer is told again.
    announced = tuple(waiting for waiting in state.announced_backorder if waiting.sku != data.sku)
    cleared = OrderBackorderCleared(order_id=state.order_id, skus=(data.sku,))
    return reserved.model_copy(update={"announced_backorder": announced}), ((f"backorder_cleared:{data.sku}", cleared),)


def backorder_line(state: OrderState, data: StockReservationFailed) -> Outcome:
    """A line waits for stock (or its ETA moved): tell the customer when the picture changed."""
    line = state.line(data.sku)
    if _is_stale(state, line, data.revision) or line.stock == "reserved":
        return state, ()
    return announce_backorder(state.with_line(line.model_copy(update={"stock": "backordered", "eta": data.eta})))


def _is_stale(state: OrderState, line: Line, revision: int) -> bool:
    return state.is_cancelled or not line.is_active or line.is_with_shipping or revision != line.revision


def announce_backorder(state: OrderState) -> Outcome:
    lines = tuple(
        BackorderedLine(sku=line.sku, qty=line.qty, eta=line.eta)
        for line in state.active_lines()
        if line.stock == "backordered"
    )
    if not lines or lines == state.announced_backorder:
        return state, ()
    eta = order_eta(lines)
    params = {"eta": iso_date(eta)} if eta is not None else {}
    outputs: Outputs = (
        ("backordered", OrderBackordered(order_id=state.order_id, eta=eta, lines=lines)),
        *notify(state, "backordered", **params),
    )
    return state.model_copy(update={"announced_backorder": lines}), outputs


def order_eta(lines: tuple[BackorderedLine, ...]) -> datetime | None:
    """When the whole order can ship: the latest line ETA, or None if any line's is unknown."""
    etas = [line.eta for line in lines]
    known = [eta for eta in etas if eta is not None]
    return max(known) if known and len(known) == len(etas) else None


def ship_what_can_ship(state: OrderState, *, split: bool) -> Outcome:
    """Once paid for: hand a till sale over, or ask for a shipment of every line together (complete
    policy) or of each reserved line at once (split). The first of these confirms the order."""
    waiting = [line for line in state.active_lines() if not line.is_with_shipping]
    ready = [line for line in waiting if line.stock == "reserved"]
    if not ready or not is_covered(state):
        return state, ()
    everything_ready = len(ready) == len(waiting)
    if state.is_till_sale:
        return _hand_over(state, ready) if everything_ready else (state, ())
    if not (everything_ready or split or state.is_split):
        return state, ()
    return _request_shipment(state, ready)


def _request_shipment(state: OrderState, lines: list[Line]) -> Outcome:
    first = not state.shipments
    shipment = Shipment(
        shipment_id=shipment_id_for(state.order_id, len(state.shipments) + 1), skus=tuple(line.sku for line in lines)
    )
    request = ShipmentRequested(
        order_id=state.order_id,
        shipment_id=shipment.shipment_id,
        lines=tuple(LineQty(sku=line.sku, qty=line.qty) for line in lines),
        shipping_address=state.shipping_address,
    )
    for line in lines:
        state = state.with_line(line.model_copy(update={"shipment_id": shipment.shipment_id}))
    state = state.with_shipment(shipment)
    shipped = (f"ship:{shipment.shipment_id}", request)
    if not first:
        return state, (shipped,)
    confirmed = OrderConfirmed(order_id=state.order_id, skus=shipment.skus)
    return state, (("confirmed", confirmed), shipped, *notify(state, "confirmed"))


def _hand_over(state: OrderState, lines: list[Line]) -> Outcome:
    """A till sale: the customer has the goods; their stock leaves the shelf, the order is complete."""
    for line in lines:
        state = state.with_line(line.model_copy(update={"handed_over": True, "stock": "committed"}))
    handed = OrderHandedOver(order_id=state.order_id, lines=tuple(LineQty(sku=li.sku, qty=li.qty) for li in lines))
    commits: Outputs = tuple(
        (f"handover:{line.sku}", StockCommitRequested(sku=line.sku, order_id=state.order_id, qty=line.qty))
        for line in lines
    )
    state, captures = capture_shipped(state, sum((line.charge(state.currency) for line in lines), ZERO), None)
    confirmed = OrderConfirmed(order_id=state.order_id, skus=tuple(line.sku for line in lines))
    told = notify(state, "handed_over", step="notify:confirmed")
    return state, (("confirmed", confirmed), ("handed_over", handed), *commits, *captures, *told)


def dispatch(state: OrderState, data: ShipmentDispatched) -> Outcome:
    """The parcel left: its reserved units leave the shelf; an order captured at shipment captures its share."""
    shipment = _requested(state, data.shipment_id)
    if shipment.dispatched:
        return state, ()
    if state.is_cancelled:
        raise Rejected(
            f"shipment {data.shipment_id} was dispatched after order {state.order_id} was cancelled "
            f"({state.cancel_reason}); its stock was released: stop or recall the parcel"
        )
    first = not state.dispatched_skus()
    state = state.with_shipment(shipment.model_copy(update={"tracking_number": data.tracking_number}))
    lines = [state.line(sku) for sku in shipment.skus]
    for line in lines:
        state = state.with_line(line.model_copy(update={"stock": "committed"}))
    shipped = OrderShipped(
        order_id=state.order_id,
        shipment_id=data.shipment_id,
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        tracking_url=data.tracking_url,
        complete=all(line.sku in state.dispatched_skus() for line in state.active_lines()),
    )
    tracking = {"tracking_url": data.tracking_url, "tracking_number": data.tracking_number, "carrier": data.carrier}
    commits: Outputs = tuple(
        (f"commit:{line.sku}", StockCommitRequested(sku=line.sku, order_id=state.order_id, qty=line.qty))
        for line in lines
    )
    value = sum((line.charge(state.currency) for line in lines), ZERO)
    state, captures = capture_shipped(
        state, value + (state.placed.shipping_charge if first else ZERO), data.shipment_id
    )
    return state, (("shipped", shipped), *commits, *captures, *notify(state, "shipped", **tracking))


def deliver(state: OrderState, data: ShipmentDelivered) -> Outcome:
    """The carrier delivered a parcel. The order is delivered once every parcel is; the notice names this one."""
    shipment = state.shipment_tracked_as(data.tracking_number)
    if shipment is None:
        raise Rejected(
            f"order {state.order_id} ({state.status}) has no shipment with tracking number {data.tracking_number}"
        )
    if shipment.delivered:
        return state, ()
    state = state.with_shipment(shipment.model_copy(update={"delivered": True}))
    everything = all(line.sku in state.dispatched_skus() for line in state.active_lines())
    delivered = OrderDelivered(
        order_id=state.order_id,
        delivered_at=data.delivered_at,
        shipment_id=shipment.shipment_id,
        tracking_number=data.tracking_number,
        complete=everything and all(parcel.delivered for parcel in state.shipments),
    )
    params = {"tracking_number": data.tracking_number, "delivered_at": iso_date(data.delivered_at)}
    return state, (("delivered", delivered), *notify(state, "delivered", **params))


def _requested(state: OrderState, shipment_id: str) -> Shipment:
    shipment = state.shipment(shipment_id)
    if shipment is None:
        raise Rejected(f"order {state.order_id} never requested shipment {shipment_id}")
    return shipment
