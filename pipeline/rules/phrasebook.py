"""The shape of a language's message texts (`message_texts` holds them) and the reasons we phrase."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    subject: str
    body: str


@dataclass(frozen=True)
class MoneyStyle:
    """How a language writes an amount: `{symbol}`/`{code}` and `{number}`, its separators."""

    with_symbol: str
    with_code: str
    group: str
    decimal: str


@dataclass(frozen=True)
class Phrasebook:
    templates: Mapping[str, Template]
    slots: Mapping[str, tuple[str, str, str]]
    fallbacks: Mapping[str, str]
    reasons: Mapping[str, str]
    date_format: str
    money: MoneyStyle
    moment_format: str


CURRENCY_SYMBOLS: Mapping[str, str] = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩"}
"""A small table instead of babel: the symbols we write; any other currency is written with its ISO code."""

OVERPAID = "you paid more than the order costs"
PAID_AFTER_CANCEL = "the order had been cancelled when your payment arrived"
