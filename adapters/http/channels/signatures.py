"""Webhook signatures: base64(HMAC-SHA256(raw body, channel secret)), as Shopify and WooCommerce sign."""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADERS: dict[str, str] = {
    "shopify": "X-Shopify-Hmac-Sha256",
    "woocommerce": "X-WC-Webhook-Signature",
    "native": "X-OMS-Signature",
    "payments": "X-OMS-Signature",
    "carrier": "X-OMS-Signature",
}


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def is_valid_signature(body: bytes, secret: str | None, signature: str | None) -> bool:
    """True only for a present signature matching a configured secret (no secret: nothing is valid)."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), signature.strip().encode())
