"""After-sales: returns and exchanges, on `oms.orders`, keyed by order id.

Inbound: `requested` (customer, ops), `received` and `inspected` (warehouse). The order processor answers
with `authorized` (an RMA number) and `recorded` (goods taken back against it); restock and refund follow.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from events import topics
from events.base import EventData, OrderId
from events.common import LineQty, OrderLine

Rma = str


class _ReturnEvent(EventData):
    topic = topics.ORDERS
    key_field = "order_id"
    order_id: OrderId


class _ReturnOfLines(_ReturnEvent):
    lines: tuple[LineQty, ...] = Field(min_length=1)


class ReturnRequested(_ReturnOfLines):
    """Goods will come back. v2: `replacements` makes it an exchange (lines the customer gets instead,
    at their price; the difference is refunded or due)."""

    event_type = "oms.return.requested"
    schema_version = 2
    reason: str = Field(default="unspecified", max_length=200)
    replacements: tuple[OrderLine, ...] = Field(default=(), max_length=50)


class ReturnReceived(_ReturnOfLines):
    """The goods came back to the warehouse.

    v2: `rma` names the authorization (absent: the oldest open one that covers the lines, or a new one).
    `resellable` true/false also inspects them (as v1 always did); absent, `oms.return.inspected` follows.
    """

    event_type = "oms.return.received"
    schema_version = 2
    resellable: bool | None = None
    rma: Rma | None = Field(default=None, max_length=64)


class ReturnInspected(_ReturnEvent):
    """The warehouse inspected received goods of `rma`: resellable units go back on the shelf; both are
    refunded for what was paid for them."""

    event_type = "oms.return.inspected"
    rma: Rma = Field(min_length=1, max_length=64)
    resellable: tuple[LineQty, ...] = ()
    unsellable: tuple[LineQty, ...] = ()

    @model_validator(mode="after")
    def _some_units(self) -> ReturnInspected:
        if not self.resellable and not self.unsellable:
            raise ValueError("name the inspected units: resellable, unsellable or both")
        return self


class ReturnAuthorized(_ReturnOfLines):
    """The order processor accepts the return under number `rma` (deterministic per order)."""

    event_type = "oms.return.authorized"
    rma: Rma = Field(min_length=1, max_length=64)
    reason: str
    replacements: tuple[OrderLine, ...] = ()


class ReturnRecorded(_ReturnOfLines):
    """The order processor took `lines` back against `rma`. `inspected`: the receipt also inspected them."""

    event_type = "oms.return.recorded"
    rma: Rma = Field(min_length=1, max_length=64)
    inspected: bool


RETURN_EVENTS: tuple[type[EventData], ...] = (
    ReturnRequested,
    ReturnReceived,
    ReturnInspected,
    ReturnAuthorized,
    ReturnRecorded,
)
