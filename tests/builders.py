"""Small factories for realistic events in tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from events import (
    Customer,
    Event,
    OrderCancelRequested,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    StockIncomingScheduled,
    StockReceived,
    StockReorderPolicySet,
    new_event,
    utc_now,
)

SOURCE = "tests"


def order_placed(
    order_id: str | None = None,
    lines: dict[str, int] | None = None,
    *,
    paid: bool = True,
    price: str = "10.00",
    placed_at: datetime | None = None,
    email: str = "ada@example.com",
    language: str | None = None,
    channel: str = "web",
) -> Event[OrderPlaced]:
    data = OrderPlaced(
        order_id=order_id or f"o-{uuid.uuid4().hex[:10]}",
        channel=channel,
        customer=Customer(email=email, name="Ada Lovelace", language=language),
        lines=tuple(OrderLine(sku=sku, qty=qty, unit_price=Decimal(price)) for sku, qty in (lines or {}).items()),
        currency="EUR",
        payment_status="paid" if paid else "pending",
        placed_at=placed_at or utc_now(),
    )
    return new_event(data, source=SOURCE)


def stock_received(sku: str, qty: int, purchase_order: str | None = None) -> Event[StockReceived]:
    return new_event(StockReceived(sku=sku, qty=qty, purchase_order=purchase_order), source=SOURCE)


def incoming(sku: str, qty: int, purchase_order: str, in_days: float = 3) -> Event[StockIncomingScheduled]:
    eta = utc_now() + timedelta(days=in_days)
    return new_event(StockIncomingScheduled(sku=sku, qty=qty, eta=eta, purchase_order=purchase_order), source=SOURCE)


def paid(order_id: str, amount: str) -> Event[OrderPaid]:
    return new_event(OrderPaid(order_id=order_id, amount=Decimal(amount), method="card"), source=SOURCE)


def cancel(order_id: str, reason: str = "customer asked") -> Event[OrderCancelRequested]:
    return new_event(OrderCancelRequested(order_id=order_id, reason=reason), source=SOURCE)


def reorder_policy(sku: str, *, point: int, qty: int) -> Event[StockReorderPolicySet]:
    return new_event(StockReorderPolicySet(sku=sku, reorder_point=point, reorder_qty=qty), source=SOURCE)


def unique_sku(stem: str = "SKU") -> str:
    return f"{stem}-{uuid.uuid4().hex[:8].upper()}"
