"""Pure helpers for the carrier side: tracking numbers and links, and how long to wait between retries."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

UPS_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TRACKING_LINKS = {
    "ups": "https://www.ups.com/track?tracknum={number}",
    "dhl": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
}
GENERIC_LINK = "https://track.{carrier}.example/{number}"


def tracking_number_for(shipment_id: str, carrier_code: str) -> str:
    """A tracking number that is the same for the same shipment and carrier, in the carrier's format.

    UPS: `1Z` + 15 upper-case alphanumerics + the UPS check digit (18 characters). Any other carrier: up to
    four letters of its name + 15 digits + a Luhn check digit.
    """
    digest = int.from_bytes(hashlib.sha256(f"{carrier_code}\x1f{shipment_id}".encode()).digest(), "big")
    if _slug(carrier_code) == "ups":
        body = _base36(digest, 15)
        return f"1Z{body}{ups_check_digit(body)}"
    digits = str(digest % 10**15).zfill(15)
    prefix = re.sub(r"[^A-Z]", "", carrier_code.upper())[:4] or "TRK"
    return f"{prefix}{digits}{luhn_check_digit(digits)}"


def tracking_url(carrier: str, number: str) -> str:
    """Where the customer can follow the parcel (a made-up `.example` page for carriers we do not know)."""
    link = TRACKING_LINKS.get(_slug(carrier), GENERIC_LINK)
    return link.format(carrier=_slug(carrier) or "carrier", number=quote(number, safe=""))


def backoff_delays(attempts: int, base: float, cap: float) -> list[float]:
    """Seconds to wait before each retry: base, 2*base, 4*base, ... never more than `cap`."""
    if base < 0 or cap < 0:
        raise ValueError(f"backoff base and cap must not be negative (got base={base}, cap={cap})")
    return [min(cap, base * 2**attempt) for attempt in range(max(attempts, 0))]


def ups_check_digit(body: str) -> str:
    """The check digit of the 15 characters after `1Z`: letters count as (code - 63) mod 10, odd positions
    once and even positions twice; the digit tops the sum up to a multiple of ten."""
    values = [int(char) if char.isdigit() else (ord(char) - 63) % 10 for char in body]
    total = sum(values[0::2]) + 2 * sum(values[1::2])
    return str((10 - total % 10) % 10)


def luhn_check_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def _base36(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(UPS_ALPHABET))
        chars.append(UPS_ALPHABET[index])
    return "".join(chars)


def _slug(carrier: str) -> str:
    return re.sub(r"[^a-z0-9-]", "", carrier.lower())
