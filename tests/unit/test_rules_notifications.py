"""Customer message templates: every kind, in English, German and French, never crashing on gaps."""

from __future__ import annotations

import pytest

from pipeline.rules.notifications import RenderedMessage, render, supported_language
from pipeline.rules.phrasebook import OVERPAID

KINDS = [
    "confirmed",
    "backordered",
    "shipped",
    "delivered",
    "cancelled",
    "refunded",
    "awaiting_payment",
    "payment_refunded",
    "return_authorized",
    "return_received",
    "handed_over",
]
LANGUAGES = ["en", "de", "fr"]


def test_confirmed_in_english() -> None:
    assert render("confirmed", "en", {"order_id": "o-1", "name": "Ada"}) == RenderedMessage(
        subject="Your order o-1 is confirmed",
        body="Hello Ada,\n\nthank you for your order o-1. It is confirmed and we are getting it ready to ship."
        "\n\nWe will let you know when it is on its way.",
        language="en",
    )


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("en", "Your order o-1 is confirmed"),
        ("de", "Ihre Bestellung o-1 ist bestätigt"),
        ("fr", "Votre commande o-1 est confirmée"),
        ("de-AT", "Ihre Bestellung o-1 ist bestätigt"),
        ("es", "Your order o-1 is confirmed"),
        (None, "Your order o-1 is confirmed"),
    ],
)
def test_the_customer_language_picks_the_texts_and_unknown_ones_fall_back_to_english(
    language: str | None, subject: str
) -> None:
    assert render("confirmed", language, {"order_id": "o-1"}).subject == subject


def test_supported_language() -> None:
    assert [supported_language(x) for x in ["fr-CA", "DE", "pt", "", None]] == ["fr", "de", "en", "en", "en"]


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "We expect to ship them by 2026-03-09."),
        ("de", "Wir rechnen mit dem Versand bis zum 09.03.2026."),
        ("fr", "Nous prévoyons de les expédier d'ici le 09/03/2026."),
    ],
)
def test_backordered_with_an_eta_gives_the_date_in_the_local_format(language: str, sentence: str) -> None:
    message = render("backordered", language, {"order_id": "o-1", "eta": "2026-03-09"})
    assert sentence in message.body


def test_backordered_without_an_eta_promises_to_tell() -> None:
    body = render("backordered", "en", {"order_id": "o-1"}).body
    assert "We will tell you when they will ship." in body
    assert "expect" not in body


def test_shipped_carries_the_tracking_link() -> None:
    params = {"order_id": "o-1", "carrier": "ups", "tracking_number": "1Z9", "tracking_url": "https://ups.test/1Z9"}
    message = render("shipped", "en", params)
    assert message.subject == "Your order o-1 is on its way"
    assert "shipped with ups. Track it here: https://ups.test/1Z9 (tracking number 1Z9)." in message.body
    assert "Sendungsverfolgung: https://ups.test/1Z9 (Sendungsnummer 1Z9)." in render("shipped", "de", params).body


def test_shipped_without_tracking_says_details_follow() -> None:
    body = render("shipped", "en", {"order_id": "o-1"}).body
    assert "has been shipped with our carrier. Tracking details will follow in a separate message." in body


def test_cancelled_gives_the_reason_and_translates_ours() -> None:
    assert "Reason: found it cheaper." in render("cancelled", "en", {"reason": "found it cheaper"}).body
    assert "Grund: Zahlungsfrist abgelaufen." in render("cancelled", "de", {"reason": "payment timeout"}).body
    assert "Motif : non précisé." in render("cancelled", "fr", {}).body


def test_refunded_gives_the_amount_in_the_currencys_local_format() -> None:
    params = {"order_id": "o-1", "amount": "49.50", "currency": "EUR"}
    assert "we have refunded €49.50 for your order o-1." in render("refunded", "en", params).body
    assert "wir haben 49,50\u00a0€ für Ihre Bestellung o-1 erstattet." in render("refunded", "de", params).body
    assert "nous avons remboursé 49,50\u00a0€ pour" in render("refunded", "fr", params).body


@pytest.mark.parametrize(
    ("amount", "currency", "language", "written"),
    [
        ("1234.5", "EUR", "en", "€1,234.50"),
        ("1234.5", "EUR", "de", "1.234,50\u00a0€"),
        ("1234.5", "EUR", "fr", "1\u202f234,50\u00a0€"),
        ("1500", "JPY", "en", "¥1,500"),
        ("12.345", "KWD", "en", "KWD 12.345"),
        ("12.5", "CHF", "de", "12,50\u00a0CHF"),
    ],
)
def test_money_takes_the_currencys_decimals_and_the_languages_separators(
    amount: str, currency: str, language: str, written: str
) -> None:
    params = {"order_id": "o-1", "amount": amount, "currency": currency}
    assert f" {written} " in render("refunded", language, params).body


def test_a_cancellation_says_what_was_refunded_or_that_it_will_be() -> None:
    refunded = {"reason": "payment timeout", "refund_amount": "5.00", "currency": "EUR"}
    assert "We have refunded €5.00 to your original payment method." in render("cancelled", "en", refunded).body
    assert "If you paid already, the money will be refunded." in render("cancelled", "en", {}).body


def test_awaiting_payment_gives_the_amount_and_the_deadline_in_the_local_format() -> None:
    params = {
        "order_id": "o-1",
        "amount_due": "19.99",
        "currency": "EUR",
        "payment_due_at": "2026-03-02T09:30:00+00:00",
    }
    body = render("awaiting_payment", "de", params).body
    assert "Wir warten auf Ihre Zahlung von 19,99\u00a0€." in body
    assert "Bitte zahlen Sie bis 02.03.2026 09:30 UTC, sonst wird die Bestellung storniert." in body


def test_a_refunded_payment_says_why_in_the_customers_language() -> None:
    params = {"order_id": "o-1", "amount": "5", "currency": "USD", "reason": OVERPAID}
    assert ": you paid more than the order costs." in render("payment_refunded", "en", params).body
    assert "$5.00" in render("payment_refunded", "en", params).body
    assert ": Sie haben mehr bezahlt, als die Bestellung kostet." in render("payment_refunded", "de", params).body


def test_return_messages_name_the_return_number() -> None:
    params = {"order_id": "o-1", "rma": "o-1-R1"}
    assert "Your return number is o-1-R1" in render("return_authorized", "en", params).body
    assert (
        "Ihre Rücksendung o-1-R1 zur Bestellung o-1 ist bei uns angekommen."
        in render("return_received", "de", params).body
    )


def test_delivered() -> None:
    message = render("delivered", "fr", {"order_id": "o-1", "name": "Ada"})
    assert message.subject == "Votre commande o-1 a été livrée"
    assert message.body.startswith("Bonjour Ada,\n\nvotre commande o-1 a été livrée.")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_missing_params_never_crash_nor_leave_placeholders_or_gaps(kind: str, language: str) -> None:
    message = render(kind, language, {})
    text = message.subject + message.body
    assert message.language == language
    assert "{" not in text and "}" not in text
    assert "  " not in text and " ." not in text
    assert message.subject and len(message.body) > 40


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_its_own_text_in_every_language(kind: str, language: str) -> None:
    texts = {render(other, language, {"order_id": "o-1"}).subject for other in KINDS}
    assert len(texts) == len(KINDS)
    assert (
        render(kind, language, {"order_id": "o-1"}).subject
        != render(kind, "en" if language != "en" else "de", {"order_id": "o-1"}).subject
    )


def test_an_unknown_kind_gets_a_generic_message() -> None:
    assert render("teleported", "en", {"order_id": "o-1"}).subject == "News about your order o-1"


def test_braces_in_params_are_text_not_placeholders() -> None:
    assert "Reason: use {name} please." in render("cancelled", "en", {"reason": "use {name} please"}).body
