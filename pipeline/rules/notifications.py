"""Render a customer message from its kind, language and params. Never fails on what is missing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from pipeline.rules.message_texts import DEFAULT_LANGUAGE, PHRASEBOOKS
from pipeline.rules.money import minor_units
from pipeline.rules.phrasebook import CURRENCY_SYMBOLS, MoneyStyle, Phrasebook

DATE_PARAMS = frozenset({"eta", "delivered_at"})
MOMENT_PARAMS = frozenset({"payment_due_at"})
MONEY_PARAMS = frozenset({"amount", "amount_due", "refund_amount"})
"""Decimal strings in the currency of the `currency` param."""
GENERIC_KIND = "other"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str
    language: str


class _Filled(dict[str, str]):
    """Params for `str.format_map`: a missing one takes the phrasebook's fallback, else nothing."""

    def __init__(self, values: Mapping[str, str], fallbacks: Mapping[str, str]) -> None:
        super().__init__(values)
        self.fallbacks = fallbacks

    def __missing__(self, key: str) -> str:
        return self.fallbacks.get(key, "")


def render(kind: str, language: str | None, params: Mapping[str, str]) -> RenderedMessage:
    """The message of `kind` in the customer's language (English if we do not speak it)."""
    chosen = supported_language(language)
    book = PHRASEBOOKS[chosen]
    template = book.templates.get(kind) or book.templates[GENERIC_KIND]
    values = _values(book, params)
    return RenderedMessage(
        subject=_tidy(template.subject.format_map(values)),
        body=_tidy(template.body.format_map(values)),
        language=chosen,
    )


def supported_language(language: str | None) -> str:
    """`de-AT` -> `de`; anything we have no texts for -> English."""
    base = re.split(r"[-_]", language or "", maxsplit=1)[0].lower()
    return base if base in PHRASEBOOKS else DEFAULT_LANGUAGE


def _values(book: Phrasebook, params: Mapping[str, str]) -> _Filled:
    currency = params.get("currency")
    given = {key: _localized(book, key, value, currency) for key, value in params.items() if value and value.strip()}
    values = _Filled(given, book.fallbacks)
    for slot, (param, when_given, when_missing) in book.slots.items():
        values[slot] = (when_given if param in given else when_missing).format_map(values)
    return values


def _localized(book: Phrasebook, key: str, value: str, currency: str | None) -> str:
    if key == "reason":
        return book.reasons.get(value, value)
    if key in DATE_PARAMS:
        return _local_date(value, book.date_format)
    if key in MOMENT_PARAMS:
        return _local_moment(value, book.moment_format)
    if key in MONEY_PARAMS and currency:
        return format_money(value, currency, book.money)
    return value


def format_money(value: str, currency: str, style: MoneyStyle) -> str:
    """`49.5`, EUR -> `€49.50` (en), `49,50 €` (de, fr): the currency's decimals, the language's
    separators, its symbol from a small table or else its ISO code. Anything not a number as it came."""
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return f"{value} {currency}"
    grouped = f"{abs(amount):,.{minor_units(currency)}f}"
    number = grouped.replace(",", "\x00").replace(".", style.decimal).replace("\x00", style.group)
    symbol = CURRENCY_SYMBOLS.get(currency)
    pattern = style.with_symbol if symbol else style.with_code
    return ("-" if amount < 0 else "") + pattern.format(symbol=symbol, code=currency, number=number)


def _local_moment(value: str, moment_format: str) -> str:
    """An ISO date-time (UTC) in the language's format; anything else as it came."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime(moment_format)
    except ValueError:
        return value


def _local_date(value: str, date_format: str) -> str:
    """An ISO date (or date-time) in the language's format; anything else as it came."""
    try:
        return date.fromisoformat(value[:10]).strftime(date_format)
    except ValueError:
        return value


def _tidy(text: str) -> str:
    """Close the gaps an empty placeholder leaves ("order  is" -> "order is", "order ." -> "order.")."""
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r" +([.,])", r"\1", text)
    return "\n".join(line.strip() for line in text.split("\n"))
