"""Phone and email orders as a CSV upload: one row per line item, grouped by `order_ref`.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first order line row 2.
Order-level cells (email, currency, address, ...) may be left blank on an order's later rows; where
filled they must agree with the order's first row. One invalid row rejects the whole file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from adapters.http.channels.common import (
    ChannelOrder,
    FieldError,
    PayloadInvalid,
    SourceLine,
    merged_lines,
    order_id_for,
    placed,
)
from events import Address, Customer
from events.base import Currency, Money, Quantity, Sku, UtcDatetime
from events.common import Email

CHANNEL = "csv"
MAX_ROWS = 10_000
REQUIRED = ("order_ref", "email", "sku", "qty", "unit_price", "currency")
ROW_REQUIRED = frozenset({"order_ref", "sku", "qty", "unit_price"})
LINE_COLUMNS = frozenset({"sku", "qty", "unit_price"})
ADDRESS_COLUMNS = ("ship_name", "address1", "address2", "city", "postal_code", "region", "country")

EXAMPLE = (
    "order_ref,channel,email,name,phone,sku,qty,unit_price,currency,paid,placed_at,"
    "ship_name,address1,city,postal_code,country\n"
    "PH-1001,phone,jon@example.com,Jon Snow,+4930123,TEE-BLK-M,2,19.90,EUR,yes,2026-01-31T12:00:00Z,"
    "Jon Snow,Hauptstr. 1,Berlin,10115,DE\n"
    "PH-1001,,,,,MUG-WHT,1,9.50,,,,,,,,\n"
)


def _text(max_length: int) -> Callable[[str], str]:
    def parse(cell: str) -> str:
        if len(cell) > max_length:
            raise ValueError(f"must be at most {max_length} characters")
        return cell

    return parse


def _checked(type_: Any, message: str) -> Callable[[str], Any]:
    adapter: TypeAdapter[Any] = TypeAdapter(type_)

    def parse(cell: str) -> Any:
        try:
            return adapter.validate_python(cell)
        except ValidationError:
            raise ValueError(message) from None

    return parse


def _yes_no(cell: str) -> bool:
    answer = cell.lower()
    if answer in {"yes", "y", "true", "1", "paid"}:
        return True
    if answer in {"no", "n", "false", "0", "pending"}:
        return False
    raise ValueError("must be yes or no")


def _channel(cell: str) -> str:
    if cell.lower() not in {"phone", "email"}:
        raise ValueError("must be phone or email")
    return cell.lower()


PARSERS: dict[str, Callable[[str], Any]] = {
    "order_ref": _checked(
        Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-:#/]*$")],
        "must be 1-64 letters, digits or . _ - : # /",
    ),
    "channel": _channel,
    "email": _checked(Email, "must be an email address"),
    "name": _text(200),
    "phone": _text(40),
    "sku": _checked(Sku, "must be 1-64 letters, digits or . _ - /"),
    "qty": _checked(Quantity, "must be a positive integer"),
    "unit_price": _checked(Money, "must be an amount like 19.90 (at most 4 decimals, not negative)"),
    "currency": _checked(Currency, "must be a 3-letter currency code like EUR"),
    "paid": _yes_no,
    "placed_at": _checked(UtcDatetime, "must be an ISO 8601 time with an offset, e.g. 2026-01-31T12:00:00Z"),
    "ship_name": _text(200),
    "address1": _text(200),
    "address2": _text(200),
    "city": _text(100),
    "postal_code": _text(20),
    "region": _text(100),
    "country": _checked(Annotated[str, Field(pattern=r"^[A-Z]{2}$")], "must be a 2-letter country code like DE"),
}


@dataclass(frozen=True)
class Row:
    number: int
    values: dict[str, Any]


def map_orders(text: str, *, received_at: datetime) -> list[ChannelOrder]:
    """Every order in the file, or `PayloadInvalid` listing every row's errors (then nothing is accepted).

    `received_at` is the placed time of rows that leave `placed_at` blank.
    """
    _allow_fields_as_long_as(text)
    reader = csv.DictReader(io.StringIO(text, newline=""))  # the csv module reads \r, \n and \r\n itself
    with _csv_errors_named(reader):
        _check_header(reader.fieldnames)
        rows, errors = _parsed_rows(reader)
    if not rows:
        raise PayloadInvalid([FieldError("(file)", "has no order rows", 2)])
    if errors:
        raise PayloadInvalid(errors)
    return _orders(_grouped(rows), received_at)


def _allow_fields_as_long_as(text: str) -> None:
    """Lift the csv module's own cap on a cell (131,072 characters) to the length of the file.

    The module refuses a longer cell with an error that names neither row nor column; past the cap, each
    column's parser names both ("row 3: name must be at most 200 characters"). The cap is a setting of
    the whole process, so it is only ever raised, and the API bounds the file (5 MiB) and with it the cap.
    """
    if len(text) > csv.field_size_limit():
        csv.field_size_limit(len(text))


@contextmanager
def _csv_errors_named(reader: csv.DictReader[str]) -> Iterator[None]:
    """Anything the csv module still refuses, as an error of the file at the line it was reading. (A bare
    carriage return did, until the file was read with newline="" as the module asks.)"""
    try:
        yield
    except csv.Error as exc:
        raise PayloadInvalid([FieldError("(file)", f"is not valid CSV: {exc}", reader.line_num)]) from None


def _parsed_rows(reader: csv.DictReader[str]) -> tuple[list[Row], list[FieldError]]:
    rows, errors = [], []
    for number, raw in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            raise PayloadInvalid([FieldError("(file)", f"has more than {MAX_ROWS} rows; split it", number)])
        row, row_errors = _parsed_row(number, raw)
        rows.append(row)
        errors.extend(row_errors)
    return rows, errors


def _check_header(fieldnames: Any) -> None:
    present = {name.strip() for name in fieldnames or () if name}
    missing = [name for name in REQUIRED if name not in present]
    if missing:
        raise PayloadInvalid([FieldError("header", f"is missing column(s): {', '.join(missing)}", 1)])


def _parsed_row(number: int, raw: dict[str | None, Any]) -> tuple[Row, list[FieldError]]:
    cells = {str(k).strip(): (v or "").strip() for k, v in raw.items() if k is not None and isinstance(v, str)}
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for column, parse in PARSERS.items():
        cell = cells.get(column, "")
        if not cell:
            if column in ROW_REQUIRED:
                errors.append(FieldError(column, "is required", number))
            continue
        try:
            values[column] = parse(cell)
        except ValueError as exc:
            errors.append(FieldError(column, str(exc), number))
    return Row(number, values), errors


def _grouped(rows: list[Row]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.values["order_ref"], []).append(row)
    return groups


def _orders(groups: dict[str, list[Row]], received_at: datetime) -> list[ChannelOrder]:
    orders: list[ChannelOrder] = []
    errors: list[FieldError] = []
    for ref, rows in groups.items():
        try:
            orders.append(_order(ref, rows, received_at))
        except PayloadInvalid as exc:
            errors.extend(exc.errors)
    if errors:
        raise PayloadInvalid(errors)
    return orders


def _order(ref: str, rows: list[Row], received_at: datetime) -> ChannelOrder:
    head = _order_fields(rows)
    lines = merged_lines(
        SourceLine("sku", row.values["sku"], row.values["qty"], row.values["unit_price"], row.number) for row in rows
    )
    order = placed(
        order_id=order_id_for(CHANNEL, ref),
        channel=head.get("channel", "phone"),
        external_ref=ref,
        customer=Customer(email=head["email"], name=head.get("name"), phone=head.get("phone")),
        lines=lines,
        currency=head["currency"],
        payment_status="paid" if head.get("paid") else "pending",
        shipping_address=_address(head, rows[0].number),
        placed_at=head.get("placed_at", received_at),
    )
    return ChannelOrder(external_id=ref, order=order)


def _order_fields(rows: list[Row]) -> dict[str, Any]:
    """The order-level cells of the first row; later rows must leave them blank or agree."""
    first = rows[0]
    head = {column: value for column, value in first.values.items() if column not in LINE_COLUMNS}
    errors = [
        FieldError(column, f"is required on the first row of order {first.values['order_ref']}", first.number)
        for column in ("email", "currency")
        if column not in head
    ]
    for row in rows[1:]:
        errors.extend(
            FieldError(column, f"differs from row {first.number} of the same order", row.number)
            for column, value in row.values.items()
            if column not in LINE_COLUMNS and value != head.get(column, value)
        )
    if errors:
        raise PayloadInvalid(errors)
    return head


def _address(head: dict[str, Any], row: int) -> Address | None:
    if not any(column in head for column in ADDRESS_COLUMNS):
        return None
    missing = [column for column in ("address1", "city", "country") if column not in head]
    if missing:
        raise PayloadInvalid(
            [FieldError(column, "is required when a shipping address is given", row) for column in missing]
        )
    return Address(
        name=head.get("ship_name"),
        line1=head["address1"],
        line2=head.get("address2"),
        city=head["city"],
        postal_code=head.get("postal_code"),
        region=head.get("region"),
        country=head["country"],
    )
