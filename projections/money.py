"""Money arithmetic of the views: Decimal only, rounded to the currency's minor unit (half up).

The same arithmetic as the order processor's (`pipeline/rules/money.py`, documented in docs/event-flow.md
under "Rounding"): projections may import only the contract, and a view that shares a discount or credits a
returned unit differently by one cent would show a balance the processor never decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import cache

ZERO = Decimal(0)
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX"), 0),
    **dict.fromkeys(("UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
"""ISO 4217 currencies whose minor unit is not the hundredth."""


@cache
def quantum(currency: str) -> Decimal:
    """The smallest amount of `currency`: 0.01 EUR, 1 JPY, 0.001 KWD."""
    return Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))


def rounded(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def pro_rata(amount: Decimal, part: int, whole: int, currency: str) -> Decimal:
    """`part` / `whole` of `amount`, rounded; all of it when part == whole, nothing when either is 0."""
    if whole <= 0 or part <= 0:
        return ZERO
    if part == whole:
        return amount
    return rounded(amount * part / whole, currency)


def allocate(amount: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """`amount` shared in proportion to `weights` in whole minor units that add up to it exactly (largest
    remainder, ties to the earlier weight)."""
    step = quantum(currency)
    total = sum(weights, ZERO)
    if total <= 0:
        return [ZERO for _ in weights]
    units = int((rounded(amount, currency) / step).to_integral_value())
    exact = [units * weight / total for weight in weights]
    floors = [int(share.to_integral_value(rounding=ROUND_FLOOR)) for share in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in by_remainder[: units - sum(floors)]:
        floors[index] += 1
    return [floors[i] * step for i in range(len(weights))]


def text(value: Decimal) -> str:
    """An amount as the views store it: a plain decimal string, exact on every backend."""
    return format(value, "f")


def in_minor_units(value: Decimal, currency: str | None) -> str:
    """`value` as text with the currency's minor units (10 EUR -> "10.00"), unless that would round it."""
    padded = value.quantize(quantum(currency) if currency else Decimal(1))
    return text(padded if padded == value else value)


def amount(value: object) -> Decimal:
    """A stored amount (a decimal string, or nothing) as a Decimal."""
    return Decimal(str(value)) if value not in (None, "") else ZERO
