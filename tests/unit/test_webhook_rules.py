"""Issue 20.1, the pure parts of outbound webhooks: patterns, the backoff schedule, giving up, pausing, the secret,
and the Standard Webhooks headers (checked with the library's own verifier)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from adapters.outbound.webhook_sender import WebhookSender, signed_headers
from pipeline.rules.webhook_delivery import (
    Backoff,
    BadPattern,
    BadSecret,
    check_pattern,
    check_secret,
    is_given_up,
    is_success,
    matches,
    matches_any,
    new_secret,
    should_pause,
)


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("*", "oms.order.paid", True),
        ("oms.order.*", "oms.order.paid", True),
        ("oms.order.*", "oms.order.cancel_requested", True),
        ("oms.order.*", "oms.orders.paid", False),  # a prefix ends at a dot
        ("oms.order.*", "oms.stock.reserved", False),
        ("oms.*", "oms.shipment.dispatched", True),
        ("oms.order.paid", "oms.order.paid", True),
        ("oms.order.paid", "oms.order.paid_twice", False),
    ],
)
def test_a_pattern_names_a_type_or_every_type_under_a_dotted_prefix(
    pattern: str, event_type: str, expected: bool
) -> None:
    assert matches(pattern, event_type) is expected


def test_a_subscription_matches_when_any_of_its_patterns_does() -> None:
    assert matches_any(["oms.stock.*", "oms.order.paid"], "oms.order.paid")
    assert not matches_any(["oms.stock.*", "oms.order.paid"], "oms.order.placed")
    assert not matches_any([], "oms.order.placed")


@pytest.mark.parametrize("pattern", ["", "oms.*.paid", "oms.order*", "OMS.order.*", "oms..order", "**", "oms.order."])
def test_patterns_that_cannot_mean_what_was_meant_are_refused(pattern: str) -> None:
    with pytest.raises(BadPattern):
        check_pattern(pattern)


def test_each_retry_waits_between_half_and_all_of_a_doubling_ceiling_up_to_the_cap() -> None:
    backoff = Backoff(base_s=2.0, cap_s=60.0)
    lowest = [backoff.delay(n, draw=lambda: 0.0).total_seconds() for n in range(1, 8)]
    highest = [backoff.delay(n, draw=lambda: 0.999999).total_seconds() for n in range(1, 8)]

    assert lowest == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert highest == pytest.approx([2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0], rel=1e-5)
    assert backoff.delay(10_000).total_seconds() <= 60.0  # no overflow however many attempts


def test_the_jitter_spreads_retries_of_the_same_attempt() -> None:
    delays = {Backoff().delay(5) for _ in range(50)}

    assert len(delays) > 40


def test_a_delivery_is_tried_for_24_hours_then_given_up() -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)

    assert not is_given_up(first, first + timedelta(hours=23, minutes=59))
    assert is_given_up(first, first + timedelta(hours=24))


def test_a_subscriber_is_paused_after_twenty_failures_in_a_row() -> None:
    assert not should_pause(19)
    assert should_pause(20)
    assert should_pause(3, threshold=3)


@pytest.mark.parametrize(("code", "expected"), [(200, True), (204, True), (299, True), (301, False), (500, False)])
def test_only_a_2xx_answer_is_a_success(code: int, expected: bool) -> None:
    assert is_success(code) is expected
    assert is_success(None) is False


def test_a_made_secret_is_whsec_and_32_random_bytes() -> None:
    secret = new_secret()

    assert check_secret(secret) == secret
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret


@pytest.mark.parametrize(
    "secret", ["abc", "whsec_", "whsec_not base64!", "whsec_" + base64.b64encode(b"short").decode()]
)
def test_secrets_not_in_the_whsec_base64_form_are_refused(secret: str) -> None:
    with pytest.raises(BadSecret):
        check_secret(secret)


def test_the_headers_verify_with_the_librarys_own_verifier_and_not_with_another_secret() -> None:
    secret, body = new_secret(), '{"id":"e-1","type":"oms.order.paid"}'
    headers = signed_headers(secret, "e-1", body, datetime.now(UTC))

    assert headers["webhook-id"] == "e-1"
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {"id": "e-1", "type": "oms.order.paid"}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("paid", "placed"), headers)


def test_the_timestamp_is_the_attempts_own_so_an_old_signature_is_refused() -> None:
    secret, body = new_secret(), "{}"
    stale = signed_headers(secret, "e-1", body, datetime.now(UTC) - timedelta(minutes=10))

    assert int(stale["webhook-timestamp"]) < int(datetime.now(UTC).timestamp()) - 500
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, stale)


async def test_an_address_that_cannot_be_reached_is_a_failed_attempt_not_a_crash() -> None:
    sender = WebhookSender(timeout_s=0.5)
    await sender.start()
    try:
        unreachable = await sender.send("http://127.0.0.1:9/hooks", new_secret(), "e-1", "{}")
        unusable = await sender.send("http://[::1/hooks", new_secret(), "e-1", "{}")
    finally:
        await sender.stop()

    assert unreachable.status_code is None and unreachable.error
    assert unusable.status_code is None and unusable.error
