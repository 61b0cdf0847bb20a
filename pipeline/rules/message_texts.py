"""The customer message texts, per language. Data only: `notifications.render` fills them in.

Placeholders are `{param}` names from NotificationRequested.params. A missing param takes the language's
fallback (or nothing). Sentences that only make sense with a param are slots: (param, text when it is
given, text when it is missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    subject: str
    body: str


@dataclass(frozen=True)
class Phrasebook:
    templates: Mapping[str, Template]
    slots: Mapping[str, tuple[str, str, str]]
    fallbacks: Mapping[str, str]
    reasons: Mapping[str, str]
    date_format: str


ENGLISH = Phrasebook(
    templates={
        "confirmed": Template(
            "Your order {order_id} is confirmed",
            "{greeting}\n\nthank you for your order {order_id}. It is confirmed and we are getting it ready to ship."
            "\n\nWe will let you know when it is on its way.",
        ),
        "backordered": Template(
            "Your order {order_id} is delayed",
            "{greeting}\n\nsome items of your order {order_id} are out of stock right now. {eta_sentence}"
            "\n\nYou can cancel the order at any time before it ships.",
        ),
        "shipped": Template(
            "Your order {order_id} is on its way",
            "{greeting}\n\nyour order {order_id} has been shipped with {carrier}. {tracking_sentence}",
        ),
        "delivered": Template(
            "Your order {order_id} was delivered",
            "{greeting}\n\nyour order {order_id} has been delivered. We hope you enjoy it!"
            "\n\nSomething not right? Reply to this message and we will help.",
        ),
        "cancelled": Template(
            "Your order {order_id} was cancelled",
            "{greeting}\n\nyour order {order_id} has been cancelled. Reason: {reason}."
            "\n\nIf you paid already, the money will be refunded.",
        ),
        "refunded": Template(
            "Your refund for order {order_id}",
            "{greeting}\n\nwe have refunded {money} for your order {order_id}. "
            "It may take a few days to appear on your statement.",
        ),
        "other": Template(
            "News about your order {order_id}", "{greeting}\n\nthere is news about your order {order_id}."
        ),
    },
    slots={
        "greeting": ("name", "Hello {name},", "Hello,"),
        "eta_sentence": ("eta", "We expect to ship them by {eta}.", "We will tell you when they will ship."),
        "tracking_sentence": (
            "tracking_url",
            "Track it here: {tracking_url} (tracking number {tracking_number}).",
            "Tracking details will follow in a separate message.",
        ),
        "money": ("amount", "{amount} {currency}", "the amount due"),
    },
    fallbacks={"carrier": "our carrier", "reason": "not given", "tracking_number": "in the link"},
    reasons={},
    date_format="%Y-%m-%d",
)

GERMAN = Phrasebook(
    templates={
        "confirmed": Template(
            "Ihre Bestellung {order_id} ist bestätigt",
            "{greeting}\n\nvielen Dank für Ihre Bestellung {order_id}. Sie ist bestätigt und wir bereiten den Versand "
            "vor.\n\nWir melden uns, sobald sie unterwegs ist.",
        ),
        "backordered": Template(
            "Ihre Bestellung {order_id} verzögert sich",
            "{greeting}\n\neinige Artikel Ihrer Bestellung {order_id} sind derzeit nicht vorrätig. {eta_sentence}"
            "\n\nSie können die Bestellung bis zum Versand jederzeit stornieren.",
        ),
        "shipped": Template(
            "Ihre Bestellung {order_id} ist unterwegs",
            "{greeting}\n\nIhre Bestellung {order_id} wurde mit {carrier} versandt. {tracking_sentence}",
        ),
        "delivered": Template(
            "Ihre Bestellung {order_id} wurde zugestellt",
            "{greeting}\n\nIhre Bestellung {order_id} wurde zugestellt. Wir wünschen viel Freude damit!"
            "\n\nStimmt etwas nicht? Antworten Sie einfach auf diese Nachricht.",
        ),
        "cancelled": Template(
            "Ihre Bestellung {order_id} wurde storniert",
            "{greeting}\n\nIhre Bestellung {order_id} wurde storniert. Grund: {reason}."
            "\n\nFalls Sie bereits bezahlt haben, erstatten wir den Betrag.",
        ),
        "refunded": Template(
            "Ihre Erstattung zur Bestellung {order_id}",
            "{greeting}\n\nwir haben {money} für Ihre Bestellung {order_id} erstattet. "
            "Es kann einige Tage dauern, bis der Betrag auf Ihrem Konto erscheint.",
        ),
        "other": Template(
            "Neuigkeiten zu Ihrer Bestellung {order_id}",
            "{greeting}\n\nes gibt Neuigkeiten zu Ihrer Bestellung {order_id}.",
        ),
    },
    slots={
        "greeting": ("name", "Hallo {name},", "Hallo,"),
        "eta_sentence": (
            "eta",
            "Wir rechnen mit dem Versand bis zum {eta}.",
            "Wir sagen Ihnen Bescheid, sobald wir wissen, wann sie versandt werden.",
        ),
        "tracking_sentence": (
            "tracking_url",
            "Sendungsverfolgung: {tracking_url} (Sendungsnummer {tracking_number}).",
            "Die Daten zur Sendungsverfolgung folgen in einer eigenen Nachricht.",
        ),
        "money": ("amount", "{amount} {currency}", "den fälligen Betrag"),
    },
    fallbacks={"carrier": "unserem Versanddienstleister", "reason": "nicht angegeben", "tracking_number": "im Link"},
    reasons={"payment timeout": "Zahlungsfrist abgelaufen"},
    date_format="%d.%m.%Y",
)

FRENCH = Phrasebook(
    templates={
        "confirmed": Template(
            "Votre commande {order_id} est confirmée",
            "{greeting}\n\nmerci pour votre commande {order_id}. Elle est confirmée et nous préparons son expédition."
            "\n\nNous vous préviendrons dès qu'elle sera en route.",
        ),
        "backordered": Template(
            "Votre commande {order_id} est retardée",
            "{greeting}\n\ncertains articles de votre commande {order_id} sont en rupture de stock. {eta_sentence}"
            "\n\nVous pouvez annuler la commande à tout moment avant son expédition.",
        ),
        "shipped": Template(
            "Votre commande {order_id} est en route",
            "{greeting}\n\nvotre commande {order_id} a été expédiée avec {carrier}. {tracking_sentence}",
        ),
        "delivered": Template(
            "Votre commande {order_id} a été livrée",
            "{greeting}\n\nvotre commande {order_id} a été livrée. Nous espérons qu'elle vous plaira !"
            "\n\nUn problème ? Répondez simplement à ce message.",
        ),
        "cancelled": Template(
            "Votre commande {order_id} a été annulée",
            "{greeting}\n\nvotre commande {order_id} a été annulée. Motif : {reason}."
            "\n\nSi vous avez déjà payé, nous vous rembourserons.",
        ),
        "refunded": Template(
            "Votre remboursement pour la commande {order_id}",
            "{greeting}\n\nnous avons remboursé {money} pour votre commande {order_id}. "
            "Le montant peut mettre quelques jours à apparaître sur votre relevé.",
        ),
        "other": Template(
            "Du nouveau sur votre commande {order_id}", "{greeting}\n\nil y a du nouveau sur votre commande {order_id}."
        ),
    },
    slots={
        "greeting": ("name", "Bonjour {name},", "Bonjour,"),
        "eta_sentence": (
            "eta",
            "Nous prévoyons de les expédier d'ici le {eta}.",
            "Nous vous dirons dès que possible quand ils seront expédiés.",
        ),
        "tracking_sentence": (
            "tracking_url",
            "Suivez-la ici : {tracking_url} (numéro de suivi {tracking_number}).",
            "Les informations de suivi suivront dans un message séparé.",
        ),
        "money": ("amount", "{amount} {currency}", "le montant dû"),
    },
    fallbacks={"carrier": "notre transporteur", "reason": "non précisé", "tracking_number": "dans le lien"},
    reasons={"payment timeout": "délai de paiement dépassé"},
    date_format="%d/%m/%Y",
)

PHRASEBOOKS: Mapping[str, Phrasebook] = {"en": ENGLISH, "de": GERMAN, "fr": FRENCH}
DEFAULT_LANGUAGE = "en"
