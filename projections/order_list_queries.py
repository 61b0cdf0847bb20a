"""The orders list: filters, a partial search, three sort orders and keyset pages, over the whole orders view.

A page ends with a cursor naming its last order (its sort value and id); the next page starts after it, so paging
costs the same on page 1 and page 500, and an order arriving meanwhile neither repeats nor skips a row. Orders
whose placement the view has not applied yet (no `placed_at`) are no orders to list.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Select, and_, func, or_, select

from projections.tables import orders

Sort = Literal["newest", "oldest", "updated"]
SORTS: tuple[Sort, ...] = ("newest", "oldest", "updated")
PAYMENT_STATUSES = ("unpaid", "partially_paid", "authorized", "paid", "partially_refunded", "refunded")
EXPORT_CHUNK = 1_000


@dataclass(frozen=True)
class OrderQuery:
    """Which orders, in which order. `search` matches part of the id, external reference, email or name (any
    case); the date range is [placed_from, placed_to)."""

    status: str | None = None
    channel: str | None = None
    payment_status: str | None = None
    customer: str | None = None
    """An email, exactly."""
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    search: str | None = None
    sort: Sort = "newest"


@dataclass(frozen=True)
class OrderListRow:
    order_id: str
    status: str | None
    channel: str | None
    external_ref: str | None
    customer_email: str | None
    customer_name: str | None
    total_amount: str | None
    currency: str | None
    payment_status: str | None
    balance_due: str | None
    placed_at: datetime
    updated_at: datetime | None


COLUMNS = tuple(field.name for field in fields(OrderListRow))


@dataclass(frozen=True)
class OrderPage:
    rows: list[OrderListRow]
    total: int
    """Every order the query matches, on all pages."""
    next_cursor: str | None
    """Where the next page starts; None on the last page."""


class BadCursor(ValueError):
    """A cursor this module did not write (or written for another sort order)."""


def row_of(values: dict[str, Any]) -> OrderListRow:
    """A list row from any mapping holding the columns (those missing are None)."""
    chosen: dict[str, Any] = {name: values.get(name) for name in COLUMNS}
    return OrderListRow(**chosen)


def is_listed(row: OrderListRow, query: OrderQuery) -> bool:
    """`matching` in Python, for read models without SQL behind them."""
    term = (query.search or "").strip().lower()
    searched = (row.order_id, row.external_ref, row.customer_email, row.customer_name)
    return (
        row.placed_at is not None
        and (query.sort != "updated" or row.updated_at is not None)
        and all(not wanted or have == wanted for have, wanted in _equalities(row, query))
        and (query.placed_from is None or row.placed_at >= query.placed_from)
        and (query.placed_to is None or row.placed_at < query.placed_to)
        and (not term or any(term in (value or "").lower() for value in searched))
    )


def _equalities(row: OrderListRow, query: OrderQuery) -> list[tuple[str | None, str | None]]:
    equal = [(row.status, query.status), (row.channel, query.channel), (row.payment_status, query.payment_status)]
    return [*equal, (row.customer_email, query.customer)]


def page_of_rows(rows: list[OrderListRow], query: OrderQuery, limit: int, after: str | None) -> OrderPage:
    """`order_page` over rows in memory."""
    listed = [row for row in rows if is_listed(row, query)]

    def sort_key(row: OrderListRow) -> tuple[datetime, str]:
        return ((row.updated_at if query.sort == "updated" else None) or row.placed_at), row.order_id

    listed.sort(key=sort_key, reverse=_descending(query.sort))
    total = len(listed)
    if after:
        sort, moment, order_id = read_cursor(after)
        if sort != query.sort:
            raise BadCursor("the cursor belongs to another sort order")
        start = (moment, order_id)
        descending = _descending(query.sort)
        listed = [row for row in listed if (sort_key(row) < start if descending else sort_key(row) > start)]
    rows_shown = listed[:limit]
    more = len(listed) > limit
    return OrderPage(rows_shown, total, cursor_after(rows_shown[-1], query.sort) if more else None)


def _sort_column(sort: Sort) -> ColumnElement[Any]:
    return orders.c.updated_at if sort == "updated" else orders.c.placed_at


def _descending(sort: Sort) -> bool:
    return sort != "oldest"


def matching(query: OrderQuery) -> list[ColumnElement[bool]]:
    o = orders.c
    where: list[ColumnElement[bool]] = [o.placed_at.is_not(None)]
    if query.sort == "updated":
        where.append(o.updated_at.is_not(None))
    equal = ((o.status, query.status), (o.channel, query.channel), (o.payment_status, query.payment_status))
    for column, value in (*equal, (o.customer_email, query.customer)):
        if value:
            where.append(column == value)
    if query.placed_from:
        where.append(o.placed_at >= query.placed_from)
    if query.placed_to:
        where.append(o.placed_at < query.placed_to)
    if query.search and query.search.strip():
        term = query.search.strip().lower()
        searched = (o.order_id, o.external_ref, o.customer_email, o.customer_name)
        where.append(or_(*(func.lower(column).contains(term, autoescape=True) for column in searched)))
    return where


def _ordered(query: OrderQuery) -> Select[Any]:
    key = _sort_column(query.sort)
    columns = [orders.c[name] for name in COLUMNS]
    if _descending(query.sort):
        return select(*columns).order_by(key.desc(), orders.c.order_id.desc())
    return select(*columns).order_by(key, orders.c.order_id)


def _after(query: OrderQuery, cursor: str) -> ColumnElement[bool]:
    sort, moment, order_id = read_cursor(cursor)
    if sort != query.sort:
        raise BadCursor("the cursor belongs to another sort order")
    key = _sort_column(query.sort)
    if _descending(query.sort):
        return or_(key < moment, and_(key == moment, orders.c.order_id < order_id))
    return or_(key > moment, and_(key == moment, orders.c.order_id > order_id))


def order_page(conn: Connection, query: OrderQuery, limit: int, after: str | None = None) -> OrderPage:
    """Up to `limit` orders matching `query`, after the cursor `after` (the first page without)."""
    where = matching(query)
    total = int(conn.execute(select(func.count()).select_from(orders).where(*where)).scalar_one())
    if after:
        where.append(_after(query, after))
    found = [OrderListRow(**row) for row in conn.execute(_ordered(query).where(*where).limit(limit + 1)).mappings()]
    rows = found[:limit]
    more = len(found) > limit
    return OrderPage(rows, total, cursor_after(rows[-1], query.sort) if more else None)


def every_order(conn: Connection, query: OrderQuery) -> Iterator[OrderListRow]:
    """Every order matching `query`, in its order, read a keyset page at a time (for exports)."""
    after: str | None = None
    while True:
        page = order_page(conn, query, EXPORT_CHUNK, after)
        yield from page.rows
        if page.next_cursor is None:
            return
        after = page.next_cursor


def cursor_after(row: OrderListRow, sort: Sort) -> str:
    moment = (row.updated_at if sort == "updated" else None) or row.placed_at  # listed rows have the one sorted by
    raw = json.dumps([sort, moment.isoformat(), row.order_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(cursor: str) -> tuple[Sort, datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort, moment, order_id = json.loads(raw)
        at = datetime.fromisoformat(moment)
    except (ValueError, TypeError) as bad:
        raise BadCursor("not a cursor of the orders list") from bad
    # an id no order can have (PostgreSQL text holds no NUL; ids are at most 64 characters) is no cursor of ours
    if sort not in SORTS or not isinstance(order_id, str) or "\x00" in order_id or len(order_id) > 64:
        raise BadCursor("not a cursor of the orders list")
    if at.tzinfo is None:
        raise BadCursor("not a cursor of the orders list")
    return sort, at, order_id
