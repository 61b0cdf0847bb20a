"""Carrier helpers: tracking numbers, tracking links and retry delays."""

from __future__ import annotations

import re

import pytest

from pipeline.rules.carriers import (
    backoff_delays,
    luhn_check_digit,
    tracking_number_for,
    tracking_url,
    ups_check_digit,
)


def test_ups_check_digit_of_the_published_sample_number() -> None:
    assert ups_check_digit("999AA1012345678") == "4"  # 1Z999AA10123456784


def test_luhn_check_digit_of_the_textbook_example() -> None:
    assert luhn_check_digit("7992739871") == "3"


def test_ups_numbers_have_the_ups_shape_and_a_valid_check_digit() -> None:
    number = tracking_number_for("o-1-S1", "ups")
    assert re.fullmatch(r"1Z[0-9A-Z]{16}", number)
    assert number[-1] == ups_check_digit(number[2:-1])


def test_other_carriers_get_a_prefixed_number_with_a_luhn_digit() -> None:
    number = tracking_number_for("o-1-S1", "simship")
    assert re.fullmatch(r"SIMS\d{16}", number)
    assert number[-1] == luhn_check_digit(number[4:-1])


def test_tracking_numbers_are_deterministic_and_distinct() -> None:
    assert tracking_number_for("o-1-S1", "ups") == tracking_number_for("o-1-S1", "ups")
    numbers = {tracking_number_for(f"o-{n}-S1", carrier) for n in range(2000) for carrier in ("ups", "simship")}
    assert len(numbers) == 4000


@pytest.mark.parametrize(
    ("carrier", "url"),
    [
        ("ups", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
        ("UPS", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
        ("simship", "https://track.simship.example/1Z999AA10123456784"),
    ],
)
def test_tracking_urls(carrier: str, url: str) -> None:
    assert tracking_url(carrier, "1Z999AA10123456784") == url


def test_tracking_urls_escape_the_number() -> None:
    assert tracking_url("simship", "A B/1") == "https://track.simship.example/A%20B%2F1"


def test_backoff_doubles_up_to_the_cap() -> None:
    assert backoff_delays(6, 0.5, 5.0) == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert backoff_delays(0, 0.5, 5.0) == []
    assert backoff_delays(-1, 0.5, 5.0) == []


def test_backoff_refuses_negative_waits() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        backoff_delays(3, -1.0, 5.0)
