"""CSV uploads of phone and email orders: grouping, row-numbered errors, all-or-nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.http.channels import PayloadInvalid, order_id_for
from adapters.http.channels.csv_upload import map_orders

SAMPLES = Path(__file__).parent / "samples"
NOW = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
HEADER = "order_ref,email,sku,qty,unit_price,currency\n"


def errors_of(text: str) -> list[str]:
    with pytest.raises(PayloadInvalid) as caught:
        map_orders(text, received_at=NOW)
    return [str(error) for error in caught.value.errors]


def test_rows_are_grouped_into_orders() -> None:
    orders = map_orders((SAMPLES / "phone_orders.csv").read_text(), received_at=NOW)
    assert [o.external_id for o in orders] == ["PH-2001", "EM-2002"]
    phone, email = (o.order for o in orders)
    assert phone.order_id == order_id_for("csv", "PH-2001")
    assert {line.sku: line.qty for line in phone.lines} == {"TEE-BLK-M": 2, "MUG-WHT": 1}
    assert phone.total() == Decimal("59.30")
    assert (phone.channel, phone.payment_status, phone.customer.email) == ("phone", "paid", "hans.meier@example.com")
    assert phone.shipping_address is not None and phone.shipping_address.city == "Hamburg"
    assert (email.channel, email.payment_status, email.placed_at) == ("email", "pending", NOW)


def test_one_invalid_row_rejects_the_file_naming_the_row() -> None:
    assert errors_of((SAMPLES / "phone_orders_bad_row.csv").read_text()) == ["row 3: qty must be a positive integer"]


def test_every_row_error_is_listed() -> None:
    text = HEADER + "A-1,a@example.com,SKU-1,2,1.00,EUR\nA-2,bad-email,SKU 2,x,-1,EUR\n"
    assert errors_of(text) == [
        "row 3: email must be an email address",
        "row 3: sku must be 1-64 letters, digits or . _ - /",
        "row 3: qty must be a positive integer",
        "row 3: unit_price must be an amount like 19.90 (at most 4 decimals, not negative)",
    ]


def test_conflicting_order_cells_and_missing_columns() -> None:
    text = HEADER + "A-1,a@example.com,SKU-1,1,1.00,EUR\nA-1,b@example.com,SKU-2,1,1.00,EUR\n"
    assert errors_of(text) == ["row 3: email differs from row 2 of the same order"]
    assert errors_of("order_ref,email,sku\nA-1,a@example.com,SKU-1\n") == [
        "row 1: header is missing column(s): qty, unit_price, currency"
    ]
    assert errors_of(HEADER) == ["row 2: (file) has no order rows"]
