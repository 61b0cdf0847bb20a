"""Point of sale: a compact sale record, paid at the till. Uploaded by the store with an ops API key.

    {"store_id": "BER-01", "receipt_number": "000123", "sold_at": "2026-01-31T15:04:05Z",
     "currency": "EUR", "items": [{"sku": "TEE-BLK-M", "qty": 2, "unit_price": "19.90"}],
     "customer_email": null}

The receipt is unique per store, so (store, receipt) is the external id. The customer took the goods at
the till: the sale is handed over, never shipped. A walk-in customer gives no email and is placed as an
anonymous customer (`customer: {}`): no message goes out, and each walk-in is a customer of their own.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from adapters.http.channels.common import (
    ChannelOrder,
    SourceLine,
    SourceModel,
    blank_to_none,
    merged_lines,
    order_id_for,
    placed,
    validated,
)
from events import Customer
from events.base import Currency, Money, Quantity, Sku, UtcDatetime
from events.common import Email

CHANNEL = "pos"

Code = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")]


class PosItem(SourceModel):
    sku: Sku
    qty: Quantity
    unit_price: Money


class PosSale(SourceModel):
    store_id: Code
    receipt_number: Code
    sold_at: UtcDatetime
    currency: Currency
    items: list[PosItem] = Field(min_length=1, max_length=500)
    customer_email: Annotated[Email | None, BeforeValidator(blank_to_none)] = None


EXAMPLE: dict[str, Any] = {
    "store_id": "BER-01",
    "receipt_number": "000123",
    "sold_at": "2026-01-31T15:04:05Z",
    "currency": "EUR",
    "items": [{"sku": "TEE-BLK-M", "qty": 2, "unit_price": "19.90"}],
    "customer_email": None,
}


def map_order(payload: Any) -> ChannelOrder:
    sale: PosSale = validated(PosSale, payload)
    external_id = f"{sale.store_id}:{sale.receipt_number}"
    order = placed(
        order_id=order_id_for(CHANNEL, external_id),
        channel=CHANNEL,
        external_ref=external_id,
        customer=Customer(email=sale.customer_email),
        lines=merged_lines(
            SourceLine(f"items.{i}.sku", it.sku, it.qty, it.unit_price) for i, it in enumerate(sale.items)
        ),
        currency=sale.currency,
        payment_status="paid",
        fulfilment="handed_over",
        placed_at=sale.sold_at,
    )
    return ChannelOrder(external_id=external_id, order=order)
