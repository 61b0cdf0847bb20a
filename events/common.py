"""Value objects shared by several event types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from events.base import Money, Quantity, Sku

Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Za-z]{2})?$")]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Customer(Frozen):
    """Who ordered. `email` may be absent only for an anonymous sale handed over at a till
    (`OrderPlaced.fulfilment == "handed_over"`): nobody is written to then."""

    email: Email | None = None
    id: str | None = Field(default=None, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    language: Language | None = None


class Address(Frozen):
    name: str | None = Field(default=None, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    region: str | None = Field(default=None, max_length=100)
    country: str = Field(pattern=r"^[A-Z]{2}$")


class OrderLine(Frozen):
    sku: Sku
    qty: Quantity
    unit_price: Money


class LineQty(Frozen):
    """A sku and a quantity, without a price: returns, shipments."""

    sku: Sku
    qty: Quantity


def is_deliverable(email: str | None) -> bool:
    """False for no address and for the reserved `.invalid` domain (RFC 2606) placeholders channels used
    for walk-in customers: nothing sent there ever arrives."""
    return bool(email) and not str(email).lower().rstrip(".").endswith(".invalid")
