"""What follows from an order's facts: its balance, whether it is paid for, its status, customer notices."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from events import NotificationRequested, is_deliverable
from events.notifications import NotificationKind
from pipeline.rules.common import Outputs
from pipeline.rules.ledger import captured, conceded, covering, refunded
from pipeline.rules.money import ZERO, rounded, text
from pipeline.rules.order_state import OrderState, OrderStatus

PaymentStatus = Literal["unpaid", "authorized", "partially_paid", "paid", "partially_refunded", "refunded"]
NOT_FOR_GOODS = frozenset({"overpayment", "unmatched_payment"})


def cost(state: OrderState) -> Decimal:
    """What the order costs the customer: its charge, less what the shop gave back of its own accord (see
    `Payment.conceded`), never below nothing."""
    charge = state.charge()
    return charge - min(conceded(state.payments), charge)


def balance(state: OrderState) -> Decimal:
    """cost - captured + refunded: what the customer still owes (negative: we owe them)."""
    return cost(state) - captured(state.payments) + refunded(state.payments)


def amount_due(state: OrderState) -> Decimal:
    """What is neither paid nor (for orders captured at shipment) authorized, rounded; never negative."""
    at_shipment = state.placed.capture == "at_shipment"
    uncovered = cost(state) - covering(state.payments) if at_shipment else balance(state)
    return max(rounded(uncovered, state.currency), ZERO)


def is_covered(state: OrderState) -> bool:
    """Paid for, or authorized for when the order is captured at shipment: its lines may ship."""
    return not state.is_cancelled and amount_due(state) == 0


def order_status(state: OrderState, covered: bool | None = None) -> OrderStatus:
    """Cancelled; else how far returns went; else how far its parcels went; else why it waits.
    `covered`: `is_covered(state)` if the caller knows it already."""
    if state.is_cancelled or state.order is None:
        return state.status
    return _return_status(state) or _shipping_status(state) or _waiting_status(state, covered)


def _return_status(state: OrderState) -> OrderStatus | None:
    out = sum(state.left_with_customer(line) + line.returned for line in state.active_lines())
    back = sum(line.returned for line in state.active_lines())
    if back and back >= out:
        return "returned"
    if back:
        return "partially_returned"
    return "return_requested" if any(case.is_open for case in state.returns) else None


def _shipping_status(state: OrderState) -> OrderStatus | None:
    active = state.active_lines()
    if active and all(line.handed_over for line in active):
        return "completed"
    if not state.shipments:
        return None
    everything_left = all(line.sku in state.dispatched_skus() for line in active)
    delivered = [shipment for shipment in state.shipments if shipment.delivered]
    if delivered:
        return "delivered" if everything_left and len(delivered) == len(state.shipments) else "partially_delivered"
    if any(shipment.dispatched for shipment in state.shipments):
        return "shipped" if everything_left else "partially_shipped"
    return "shipment_requested"


def _waiting_status(state: OrderState, covered: bool | None) -> OrderStatus:
    if any(line.stock == "backordered" for line in state.active_lines()):
        return "backordered"
    return "placed" if (is_covered(state) if covered is None else covered) else "awaiting_payment"


def payment_status(state: OrderState) -> PaymentStatus:
    """The money side, for the views (documented in docs/event-flow.md); refunds of an overpayment do
    not make an order 'refunded'."""
    net = captured(state.payments) - refunded(state.payments)
    for_goods = sum((r.amount for r in state.refunds if r.cause not in NOT_FOR_GOODS), ZERO)
    if for_goods > 0:
        return "refunded" if net <= 0 else "partially_refunded"
    if state.order is not None and amount_due(state) == 0 and state.charge() > 0:
        return "paid" if rounded(state.charge() - net, state.currency) <= 0 else "authorized"
    return "partially_paid" if net > 0 or covering(state.payments) > 0 else "unpaid"


def with_derived_status(state: OrderState) -> OrderState:
    covered = is_covered(state)
    status = order_status(state, covered)
    if (status, covered) == (state.status, state.paid):
        return state
    return state.model_copy(update={"status": status, "paid": covered})


def notify(state: OrderState, kind: NotificationKind, *, step: str | None = None, **params: str) -> Outputs:
    """A customer message about this order, if the customer gave an address we can write to.

    Every param is a string (dates ISO, amounts decimal with `currency`); the renderer formats them."""
    customer = state.placed.customer
    if customer.email is None or not is_deliverable(customer.email):
        return ()
    named = {"name": customer.name} if customer.name else {}
    request = NotificationRequested(
        order_id=state.order_id,
        kind=kind,
        recipient=customer.email,
        recipient_name=customer.name,
        language=customer.language,
        params={"order_id": state.order_id, **named, **params},
    )
    return ((step or f"notify:{kind}", request),)


def money(state: OrderState, amount: Decimal, key: str = "amount") -> dict[str, str]:
    return {key: text(rounded(amount, state.currency)), "currency": state.currency}


def iso_date(moment: datetime) -> str:
    return moment.date().isoformat()
