"""The customer message texts, per language. Data only: `notifications.render` fills them in.

Placeholders are `{param}` names from NotificationRequested.params. A missing param takes the language's
fallback (or nothing). Sentences that only make sense with a param are slots: (param, text when it is
given, text when it is missing).
"""

from __future__ import annotations

from collections.abc import Mapping

from pipeline.rules.phrasebook import OVERPAID, PAID_AFTER_CANCEL, MoneyStyle, Phrasebook, Template

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
            "{greeting}\n\nyour order {order_id} has been cancelled. Reason: {reason}.\n\n{refund_sentence}",
        ),
        "refunded": Template(
            "Your refund for order {order_id}",
            "{greeting}\n\nwe have refunded {money} for your order {order_id}. "
            "It may take a few days to appear on your statement.",
        ),
        "awaiting_payment": Template(
            "We have received your order {order_id}",
            "{greeting}\n\nthank you for your order {order_id}. We are waiting for your payment of {due}. "
            "{deadline_sentence}\n\nWe will confirm the order as soon as the payment arrives.",
        ),
        "payment_refunded": Template(
            "Money back for order {order_id}",
            "{greeting}\n\nwe have refunded {money} for your order {order_id}: {reason}. "
            "It may take a few days to appear on your statement.",
        ),
        "return_authorized": Template(
            "Your return for order {order_id} is accepted",
            "{greeting}\n\nwe have accepted your return for order {order_id}. Your return number is {rma}: "
            "please put it on the parcel.\n\nWe will refund you once the goods are back and checked.",
        ),
        "return_received": Template(
            "We received your return for order {order_id}",
            "{greeting}\n\nyour return {rma} for order {order_id} has arrived. We will check the goods and "
            "refund you shortly.",
        ),
        "handed_over": Template(
            "Your purchase {order_id}",
            "{greeting}\n\nthank you for shopping with us. This confirms your purchase {order_id}."
            "\n\nKeep this message as your receipt.",
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
        "money": ("amount", "{amount}", "the amount due"),
        "due": ("amount_due", "{amount_due}", "the amount due"),
        "deadline_sentence": ("payment_due_at", "Please pay by {payment_due_at}, or the order will be cancelled.", ""),
        "refund_sentence": (
            "refund_amount",
            "We have refunded {refund_amount} to your original payment method.",
            "If you paid already, the money will be refunded.",
        ),
    },
    fallbacks={"carrier": "our carrier", "reason": "not given", "tracking_number": "in the link", "rma": ""},
    reasons={},
    date_format="%Y-%m-%d",
    money=MoneyStyle("{symbol}{number}", "{code} {number}", ",", "."),
    moment_format="%Y-%m-%d %H:%M UTC",
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
            "{greeting}\n\nIhre Bestellung {order_id} wurde storniert. Grund: {reason}.\n\n{refund_sentence}",
        ),
        "refunded": Template(
            "Ihre Erstattung zur Bestellung {order_id}",
            "{greeting}\n\nwir haben {money} für Ihre Bestellung {order_id} erstattet. "
            "Es kann einige Tage dauern, bis der Betrag auf Ihrem Konto erscheint.",
        ),
        "awaiting_payment": Template(
            "Ihre Bestellung {order_id} ist eingegangen",
            "{greeting}\n\nvielen Dank für Ihre Bestellung {order_id}. Wir warten auf Ihre Zahlung von {due}. "
            "{deadline_sentence}\n\nSobald die Zahlung eingeht, bestätigen wir die Bestellung.",
        ),
        "payment_refunded": Template(
            "Rückzahlung zur Bestellung {order_id}",
            "{greeting}\n\nwir haben {money} zu Ihrer Bestellung {order_id} zurückgezahlt: {reason}. "
            "Es kann einige Tage dauern, bis der Betrag auf Ihrem Konto erscheint.",
        ),
        "return_authorized": Template(
            "Ihre Rücksendung zur Bestellung {order_id} ist angenommen",
            "{greeting}\n\nwir haben Ihre Rücksendung zur Bestellung {order_id} angenommen. Ihre "
            "Rücksendenummer ist {rma}: bitte vermerken Sie sie auf dem Paket.\n\nSobald die Ware geprüft ist, "
            "erstatten wir den Betrag.",
        ),
        "return_received": Template(
            "Ihre Rücksendung zur Bestellung {order_id} ist angekommen",
            "{greeting}\n\nIhre Rücksendung {rma} zur Bestellung {order_id} ist bei uns angekommen. Wir prüfen "
            "die Ware und erstatten den Betrag in Kürze.",
        ),
        "handed_over": Template(
            "Ihr Einkauf {order_id}",
            "{greeting}\n\nvielen Dank für Ihren Einkauf. Diese Nachricht bestätigt Ihren Einkauf {order_id}."
            "\n\nBewahren Sie sie als Beleg auf.",
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
        "money": ("amount", "{amount}", "den fälligen Betrag"),
        "due": ("amount_due", "{amount_due}", "den fälligen Betrag"),
        "deadline_sentence": (
            "payment_due_at",
            "Bitte zahlen Sie bis {payment_due_at}, sonst wird die Bestellung storniert.",
            "",
        ),
        "refund_sentence": (
            "refund_amount",
            "Wir haben {refund_amount} auf Ihr ursprüngliches Zahlungsmittel erstattet.",
            "Falls Sie bereits bezahlt haben, erstatten wir den Betrag.",
        ),
    },
    fallbacks={
        "carrier": "unserem Versanddienstleister",
        "reason": "nicht angegeben",
        "tracking_number": "im Link",
        "rma": "",
    },
    reasons={
        "payment timeout": "Zahlungsfrist abgelaufen",
        OVERPAID: "Sie haben mehr bezahlt, als die Bestellung kostet",
        PAID_AFTER_CANCEL: "die Bestellung war bereits storniert, als Ihre Zahlung einging",
    },
    date_format="%d.%m.%Y",
    money=MoneyStyle("{number}\u00a0{symbol}", "{number}\u00a0{code}", ".", ","),
    moment_format="%d.%m.%Y %H:%M UTC",
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
            "{greeting}\n\nvotre commande {order_id} a été annulée. Motif : {reason}.\n\n{refund_sentence}",
        ),
        "refunded": Template(
            "Votre remboursement pour la commande {order_id}",
            "{greeting}\n\nnous avons remboursé {money} pour votre commande {order_id}. "
            "Le montant peut mettre quelques jours à apparaître sur votre relevé.",
        ),
        "awaiting_payment": Template(
            "Nous avons reçu votre commande {order_id}",
            "{greeting}\n\nmerci pour votre commande {order_id}. Nous attendons votre paiement de {due}. "
            "{deadline_sentence}\n\nNous confirmerons la commande dès réception du paiement.",
        ),
        "payment_refunded": Template(
            "Remboursement d'un paiement pour la commande {order_id}",
            "{greeting}\n\nnous avons remboursé {money} pour votre commande {order_id} : {reason}. "
            "Le montant peut mettre quelques jours à apparaître sur votre relevé.",
        ),
        "return_authorized": Template(
            "Votre retour pour la commande {order_id} est accepté",
            "{greeting}\n\nnous avons accepté votre retour pour la commande {order_id}. Votre numéro de retour "
            "est {rma} : indiquez-le sur le colis.\n\nNous vous rembourserons dès que les articles seront "
            "revenus et vérifiés.",
        ),
        "return_received": Template(
            "Nous avons reçu votre retour pour la commande {order_id}",
            "{greeting}\n\nvotre retour {rma} pour la commande {order_id} est arrivé. Nous vérifions les "
            "articles et vous rembourserons rapidement.",
        ),
        "handed_over": Template(
            "Votre achat {order_id}",
            "{greeting}\n\nmerci pour votre achat. Ce message confirme votre achat {order_id}."
            "\n\nConservez-le comme justificatif.",
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
        "money": ("amount", "{amount}", "le montant dû"),
        "due": ("amount_due", "{amount_due}", "le montant dû"),
        "deadline_sentence": (
            "payment_due_at",
            "Merci de payer avant le {payment_due_at}, faute de quoi la commande sera annulée.",
            "",
        ),
        "refund_sentence": (
            "refund_amount",
            "Nous avons remboursé {refund_amount} sur votre moyen de paiement d'origine.",
            "Si vous avez déjà payé, nous vous rembourserons.",
        ),
    },
    fallbacks={"carrier": "notre transporteur", "reason": "non précisé", "tracking_number": "dans le lien", "rma": ""},
    reasons={
        "payment timeout": "délai de paiement dépassé",
        OVERPAID: "vous avez payé plus que le montant de la commande",
        PAID_AFTER_CANCEL: "la commande était déjà annulée à l'arrivée de votre paiement",
    },
    date_format="%d/%m/%Y",
    money=MoneyStyle("{number}\u00a0{symbol}", "{number}\u00a0{code}", "\u202f", ","),
    moment_format="%d/%m/%Y %H:%M UTC",
)

PHRASEBOOKS: Mapping[str, Phrasebook] = {"en": ENGLISH, "de": GERMAN, "fr": FRENCH}
DEFAULT_LANGUAGE = "en"
