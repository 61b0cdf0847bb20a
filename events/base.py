"""Base of every event payload: frozen pydantic models bound to a type, topic and key."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must be timezone-aware (ISO 8601 with an offset, e.g. 2026-01-31T12:00:00Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # an offset at either end of datetime's range: 0001-01-01T00:00:00+00:01
        raise ValueError("is out of range once in UTC") from None


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]
"""A timezone-aware instant, normalised to UTC."""

Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=4),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,10}(\.\d{1,4})?$"}, mode="serialization"),
]
"""A non-negative decimal amount, written as a string on the wire so nothing is lost to floats."""

Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")]
OrderId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-:]*$")]
Quantity = Annotated[int, Field(gt=0, le=1_000_000)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]
"""A non-negative integer that any JSON reader (and orjson, 64-bit) can carry."""
SignedCount = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class EventData(BaseModel):
    """The `data` of one CloudEvent type. Subclasses name the type, its topic and its key field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    topic: ClassVar[str]
    key_field: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def partition_key(self) -> str:
        return str(getattr(self, self.key_field))

    @classmethod
    def upcast(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        """Turn `data` written at an older `schemaversion` into the current shape.

        Types whose shape changed override this; the default accepts older data as it is.
        """
        return data
