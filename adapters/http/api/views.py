"""Turning read-model rows and published events into response bodies."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import astuple
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from adapters.http.api.deps import PageRequest
from adapters.http.api.schemas import ActionAccepted, Page
from events import Event
from projections import order_list_queries as order_list
from projections.order_list_queries import OrderListRow

S = TypeVar("S", bound=BaseModel)
CSV_CHUNK = 64 * 1024


def as_schema(schema: type[S], row: Any) -> S:
    """A row of the read model (a mapping or an object with the fields) as a response schema."""
    if isinstance(row, Mapping):
        return schema.model_validate(dict(row))
    return schema.model_validate(row, from_attributes=True)


def page_of(schema: type[S], items: Sequence[Any], total: int, page: PageRequest) -> Page[S]:
    return Page[schema](  # type: ignore[valid-type]
        items=[as_schema(schema, item) for item in items], total=total, limit=page.limit, offset=page.offset
    )


def accepted(event: Event[Any]) -> ActionAccepted:
    return ActionAccepted(event_id=str(event.id), type=event.type, subject=event.subject)


def orders_csv(rows: Iterable[OrderListRow]) -> Iterator[str]:
    """The orders list as CSV (RFC 4180, a header line first), a line at a time; times in ISO 8601 UTC."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(order_list.COLUMNS)
    for row in rows:
        writer.writerow(["" if value is None else _cell(value) for value in astuple(row)])
        if out.tell() > CSV_CHUNK:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _cell(value: object) -> str:
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # a spreadsheet must not run a formula
