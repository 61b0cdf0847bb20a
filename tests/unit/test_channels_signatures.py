"""Webhook signatures: base64(HMAC-SHA256(raw body, secret))."""

from __future__ import annotations

import base64
import hashlib
import hmac

from adapters.http.channels.signatures import is_valid_signature, sign

BODY = b'{"id": 1}'


def test_sign_matches_shopify_scheme() -> None:
    expected = base64.b64encode(hmac.new(b"s3cret", BODY, hashlib.sha256).digest()).decode()
    assert sign(BODY, "s3cret") == expected


def test_right_wrong_and_missing_signatures() -> None:
    assert is_valid_signature(BODY, "s3cret", sign(BODY, "s3cret"))
    assert not is_valid_signature(BODY, "s3cret", sign(BODY, "other"))
    assert not is_valid_signature(BODY + b" ", "s3cret", sign(BODY, "s3cret"))
    assert not is_valid_signature(BODY, "s3cret", None)
    assert not is_valid_signature(BODY, "s3cret", "")


def test_no_configured_secret_accepts_nothing() -> None:
    assert not is_valid_signature(BODY, None, sign(BODY, ""))
    assert not is_valid_signature(BODY, "", sign(BODY, ""))
