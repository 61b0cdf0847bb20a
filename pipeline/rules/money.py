"""Money arithmetic for the rules: Decimal only, rounded to the currency's minor unit (half up)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
DEFAULT_MINOR_UNITS = 2
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX"), 0),
    **dict.fromkeys(("UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
"""ISO 4217 currencies whose minor unit is not the hundredth."""


def minor_units(currency: str) -> int:
    return MINOR_UNITS.get(currency, DEFAULT_MINOR_UNITS)


def quantum(currency: str) -> Decimal:
    """The smallest amount of `currency`: 0.01 EUR, 1 JPY, 0.001 KWD."""
    return Decimal(1).scaleb(-minor_units(currency))


def rounded(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def pro_rata(amount: Decimal, part: int, whole: int, currency: str) -> Decimal:
    """`part` / `whole` of `amount`, rounded; the whole of it when part == whole, nothing when whole is 0."""
    if whole <= 0 or part <= 0:
        return ZERO
    if part == whole:
        return amount
    return rounded(amount * part / whole, currency)


def allocate(amount: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """`amount` shared in proportion to `weights`, in whole minor units that add up to `amount` exactly
    (largest remainder; ties to the earlier weight). No weight: nothing is shared."""
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


def text(amount: Decimal) -> str:
    """An amount as the contract writes it: plain decimal notation."""
    return format(amount, "f")
