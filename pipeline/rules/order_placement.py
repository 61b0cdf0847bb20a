"""A new order: its lines priced after their share of the discount, its stock asked for line by line, the
payment it came with, and the payments that came before it."""

from __future__ import annotations

from events import Event, EventData, OrderPlaced, StockReservationRequested
from pipeline.rules.common import Outputs
from pipeline.rules.ledger import Payment, Payments
from pipeline.rules.money import allocate, rounded
from pipeline.rules.order_held_payments import apply_held
from pipeline.rules.order_state import Line, OrderState

Outcome = tuple[OrderState, Outputs]


def place(state: OrderState | None, event: Event[EventData], data: OrderPlaced) -> Outcome:
    """Ask for stock line by line; count the payment of an order placed paid and any that waited for it.
    A second placement of the same order changes nothing."""
    if state is not None and state.order is not None:
        return state, ()
    placed = OrderState(
        order=data,
        placed_event_id=event.id,
        correlation_id=event.correlationid,
        lines=priced_lines(data),
        shipping_address=data.shipping_address,
        held=state.held if state else (),
        early=state.early if state else (),
        payments=_in_currency(state.payments, data.currency) if state else (),
    )
    if data.payment_status == "paid":
        placed = placed.model_copy(update={"payments": (*placed.payments, _placement_payment(placed))})
    requests: Outputs = tuple(
        (
            f"reserve:{line.sku}",
            StockReservationRequested(sku=line.sku, order_id=data.order_id, qty=line.qty, placed_at=data.placed_at),
        )
        for line in data.lines
    )
    placed, held = apply_held(placed)
    return placed, (*requests, *held)


def priced_lines(data: OrderPlaced) -> tuple[Line, ...]:
    """The lines with what each costs: list price, less its share of the order's discount (pro rata of the
    lines' value, in whole minor units that add up to the discounted total exactly)."""
    net = rounded(data.goods_total() - data.discount, data.currency)
    shares = allocate(net, [line.unit_price * line.qty for line in data.lines], data.currency)
    return tuple(
        Line(
            sku=line.sku,
            qty=line.qty,
            unit_price=line.unit_price,
            base_qty=line.qty,
            base_charge=share,
            placed_at=data.placed_at,
        )
        for line, share in zip(data.lines, shares, strict=True)
    )


def _placement_payment(state: OrderState) -> Payment:
    """The channel took the money with the order: what the order costs, captured (or authorized only,
    for an order captured at shipment). Views read it from the placement; no `oms.payment.recorded`."""
    order = state.placed
    payment_id = order.payment_id or f"{order.order_id}:placement"
    amount = state.charge()
    if order.capture == "at_shipment":
        return Payment(payment_id=payment_id, authorized=amount)
    return Payment(payment_id=payment_id, authorized=amount, captured=amount)


def _in_currency(payments: Payments, currency: str) -> Payments:
    """Payments refunded before the order came stay in its ledger if they were in its currency."""
    return tuple(payment for payment in payments if payment.currency in ("", currency))
