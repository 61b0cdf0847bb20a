"""The simulated history's requests and the order processor's answers to them: a change before payment, a
payment (recorded, or refunded when it came after a timeout), refunds that name their payment, refusals."""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from events import (
    Event,
    EventData,
    LineChange,
    OrderAwaitingPayment,
    OrderCancelled,
    OrderChanged,
    OrderChangeRequested,
    OrderLine,
    OrderPaid,
    OrderPaymentExpired,
    OrderPlaced,
    OrderRequestRefused,
    PaymentRecorded,
    RefundIssued,
)
from events.changes import RefusalCode
from events.payments import RefundCause

Emit = Callable[[EventData], Event[EventData]]
Story = Generator[Event[EventData], None, Any]


def total_of(lines: Sequence[OrderLine]) -> Decimal:
    return sum((line.unit_price * line.qty for line in lines), Decimal(0))


def maybe_change(emit: Emit, rng: random.Random, order_id: str, lines: tuple[OrderLine, ...]) -> Story:
    """Before it is paid, a customer takes one unit off the first line now and then; returns the lines now."""
    if lines[0].qty < 2 or rng.random() > 0.15:
        return lines
    smaller = (lines[0].model_copy(update={"qty": lines[0].qty - 1}), *lines[1:])
    change = LineChange(sku=lines[0].sku, qty=smaller[0].qty)
    yield emit(OrderChangeRequested(order_id=order_id, lines=(change,)))
    yield emit(OrderChanged(order_id=order_id, lines=smaller, total=total_of(smaller), reason="one less"))
    return smaller


def pay(emit: Emit, rng: random.Random, placed: OrderPlaced, lines: tuple[OrderLine, ...], due: datetime) -> Story:
    """Awaiting payment; paid (the processor records it), or timed out (and now and then paid too late, which is
    refunded). Returns the payment's id, or None when the order ended cancelled."""
    order_id, total = placed.order_id, total_of(lines)
    yield emit(OrderAwaitingPayment(order_id=order_id, payment_due_at=due, amount_due=total))
    payment = f"{order_id}:card"
    late = rng.random() < 0.3
    if late:
        yield emit(OrderPaymentExpired(order_id=order_id, payment_due_at=due))
        yield emit(OrderCancelled(order_id=order_id, reason="payment timeout"))
        if rng.random() > 0.3:
            return None
    yield emit(OrderPaid(order_id=order_id, amount=total, method="card", payment_id=payment, currency="EUR"))
    yield emit(
        PaymentRecorded(
            order_id=order_id,
            payment_id=payment,
            kind="captured",
            amount=total,
            currency=placed.currency,
            captured=total,
            refunded=Decimal(0),
            balance_due=Decimal(0),
        )
    )
    if late:
        yield refund(emit, order_id, payment, total, "late_payment", "paid after the order was cancelled")
        return None
    return payment


def refund(
    emit: Emit, order_id: str, payment: str, amount: Decimal, cause: RefundCause, reason: str, **more: Any
) -> Event[EventData]:
    money_back = RefundIssued(order_id=order_id, amount=amount, currency="EUR", reason=reason, cause=cause, **more)
    return emit(money_back.model_copy(update={"payment_id": payment}))


def refusal(emit: Emit, order_id: str, asked: Event[EventData], code: RefusalCode, reason: str) -> Event[EventData]:
    refused = OrderRequestRefused(
        order_id=order_id, refused_event_id=str(asked.id), refused_type=asked.type, code=code, reason=reason
    )
    return emit(refused)
