"""What every channel mapper shares: the mapped order and updates, field errors, ids and line merging.

Mappers are pure: payload in, `ChannelOrder` (a new order) or `ChannelUpdate` (what a shop's webhook says
about an order now) out, or `PayloadInvalid` naming each field in error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, NamedTuple, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from events import EventData, OrderLine, OrderPlaced, natural_id

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=EventData)

_LANGUAGE = re.compile(r"^[a-z]{2}(-[A-Za-z]{2})?$")
_ORDER_ID_PREFIXES = {"shopify": "SHOP", "woocommerce": "WOO", "pos": "POS", "csv": "CSV"}


def _number_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


ExternalId = Annotated[
    str, BeforeValidator(_number_as_text), Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
]
"""A channel's own id of an order (a number or text), the intake store's key: at most 64 characters, none a
control character. PostgreSQL refused a NUL in it, and an id past the column's 128 characters (500s)."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one field. `field` uses the channel's own names (`line_items.0.sku`)."""

    field: str
    message: str
    row: int | None = None

    def __str__(self) -> str:
        if self.row is None:
            return f"{self.field}: {self.message}"
        return f"row {self.row}: {self.field} {self.message}"


class PayloadInvalid(ValueError):
    """The payload cannot become an order. Carries every field error found, not just the first."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(str(error) for error in self.errors))


@dataclass(frozen=True)
class ChannelOrder:
    """An order as a channel sent it, mapped: `external_id` is the channel's own id of the order."""

    external_id: str
    order: OrderPlaced


@dataclass(frozen=True)
class ChannelFact:
    """One thing a shop's webhook says about an order, as the event that tells the pipeline.

    `aspect` names what it is about, one current value per order: `lines` (its lines and address, an
    `OrderChangeRequested` of every sku), `payment:<id>` (an `OrderPaid`, the payment's total so far),
    `cancel` (an `OrderCancelRequested`), `refund:<id>` (a `RefundReported`). The intake publishes a fact
    when its aspect's value differs from the one it published last."""

    aspect: str
    data: EventData


@dataclass(frozen=True)
class ChannelUpdate:
    """What a shop's webhook says about one of its orders now.

    `order`: the order as the payload shows it, to place it if it was never placed (None when the payload
    is not a whole order, like a refund). `changed_at`: when the shop last changed it (its `updated_at`), so
    a delivery older than one already taken is not applied over it."""

    external_id: str
    order: ChannelOrder | None
    facts: tuple[ChannelFact, ...]
    changed_at: datetime | None = None


LINES = "lines"
CANCEL = "cancel"


def payment_aspect(payment_id: str) -> str:
    return f"payment:{payment_id}"


def refund_aspect(refund_id: str) -> str:
    return f"refund:{refund_id}"


def shop_payment_id(channel: str, external_id: str) -> str:
    """The one payment a shop takes for its order, the same in every webhook about it: a paid placement and
    each later report name it, so the ledger counts the shop's money once."""
    return f"{channel}:{external_id}"


def line_changes(lines: Iterable[tuple[str, int, Decimal]]) -> list[dict[str, Any]]:
    """An order's lines, as (sku, quantity now, unit price), as the `lines` of an `OrderChangeRequested`:
    every sku once (quantities of a sku summed; 0: the line was removed), with its price for a new line."""
    by_sku: dict[str, tuple[int, Decimal]] = {}
    for sku, qty, price in lines:
        before, first_price = by_sku.get(sku, (0, price))
        by_sku[sku] = (before + qty, first_price)
    return [{"sku": sku, "qty": qty, "unit_price": price} for sku, (qty, price) in by_sku.items()]


class SourceModel(BaseModel):
    """A channel's payload shape. Webhooks carry many more fields than we read: ignore them."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def order_id_for(channel: str, external_id: str) -> str:
    """A readable, deterministic order id: the same channel order always gets the same id."""
    prefix = _ORDER_ID_PREFIXES.get(channel, channel[:3].upper())
    return f"{prefix}-{natural_id(channel, external_id).hex[:12].upper()}"


def field_errors(exc: ValidationError, prefix: str = "", row: int | None = None) -> list[FieldError]:
    return [FieldError(field=_dotted(prefix, error["loc"]), message=_message(error), row=row) for error in exc.errors()]


def validated(model: type[SourceModel], payload: Any) -> Any:
    """`payload` parsed as `model`, or `PayloadInvalid` with the channel's field names."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise PayloadInvalid(field_errors(exc)) from None


def placed(**fields: Any) -> OrderPlaced:
    """The contract's event data; anything the source model let through but the contract refuses is named."""
    return made(OrderPlaced, "order", **fields)


def made(model: type[E], prefix: str, **fields: Any) -> E:
    """Event data of `model`; what the contract refuses is named under `prefix`."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise PayloadInvalid(field_errors(exc, prefix=prefix)) from None


def built(model: type[M], prefix: str, **fields: tuple[str, Any]) -> M:
    """`model` from `target=(source field, value)` pairs; errors name the source field under `prefix`."""
    try:
        return model(**{target: value for target, (_, value) in fields.items() if value is not None})
    except ValidationError as exc:
        names = {target: source for target, (source, _) in fields.items()}
        errors = [
            FieldError(_dotted(prefix, (names.get(str(e["loc"][0]), e["loc"][0]), *e["loc"][1:])), _message(e))
            for e in exc.errors()
        ]
        raise PayloadInvalid(errors) from None


class SourceLine(NamedTuple):
    """One line as a channel sent it; `field` and `row` say where, for error messages."""

    field: str
    sku: str
    qty: int
    unit_price: Decimal
    row: int | None = None


def merged_lines(items: Iterable[SourceLine]) -> tuple[OrderLine, ...]:
    """One line per sku, as the contract wants: lines of one sku at one price are summed."""
    by_sku: dict[str, tuple[int, Decimal]] = {}
    errors: list[FieldError] = []
    for item in items:
        if item.sku in by_sku and by_sku[item.sku][1] != item.unit_price:
            errors.append(FieldError(item.field, f"sku {item.sku} is on two lines at different prices", item.row))
            continue
        by_sku[item.sku] = (by_sku.get(item.sku, (0, item.unit_price))[0] + item.qty, item.unit_price)
    if errors:
        raise PayloadInvalid(errors)
    return tuple(OrderLine(sku=sku, qty=qty, unit_price=price) for sku, (qty, price) in by_sku.items())


def blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def full_name(first: str | None, last: str | None) -> str | None:
    return " ".join(part for part in (first, last) if part) or None


def language_of(locale: str | None) -> str | None:
    """A channel's locale (`de`, `pt_BR`) as the contract's language tag, or None when it is not one."""
    tag = (locale or "").replace("_", "-")
    return tag if _LANGUAGE.match(tag) else None


def _dotted(prefix: str, loc: tuple[Any, ...]) -> str:
    parts = [prefix, *(str(part) for part in loc)] if prefix else [str(part) for part in loc]
    return ".".join(parts) or "(body)"


def _message(error: Any) -> str:
    if error["type"] == "missing":
        return "is required"
    return str(error["msg"])
