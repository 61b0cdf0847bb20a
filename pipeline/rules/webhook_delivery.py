"""Outbound webhooks' pure rules: which subscriptions an event type matches, when a failed delivery is tried
again, when it is given up, and when a subscriber that keeps failing is paused.

The deliverer (`adapters.kafka.webhook_deliverer`) only wires these to Kafka, SQL and HTTP.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

RETRY_WINDOW = timedelta(hours=24)
"""A delivery is tried again for this long after its first attempt, then given up (Standard Webhooks' advice)."""
PAUSE_AFTER_FAILURES = 20
"""Failed attempts in a row, over all of a subscription's deliveries, that pause it: a subscriber answering 35 %
of requests with an error fails 20 in a row about once in 1.3 billion tries, one that is down fails them in minutes."""

SECRET_PREFIX = "whsec_"
_PATTERN = re.compile(r"^(\*|[a-z0-9_]+(\.([a-z0-9_]+|\*))*)$")


class BadPattern(ValueError):
    """An event-type pattern that is not `*`, a type, or a type's dotted start ending in `.*`."""


def check_pattern(pattern: str) -> str:
    """`pattern` itself when it is an exact type (`oms.order.paid`), a prefix (`oms.order.*`) or `*`."""
    if not _PATTERN.match(pattern) or ("*" in pattern[:-1]):
        raise BadPattern(f"{pattern!r}: give an event type, a dotted prefix ending in `.*` (oms.order.*), or `*`")
    return pattern


def matches(pattern: str, event_type: str) -> bool:
    """True when `event_type` is named by `pattern`: `*` names all, `oms.order.*` every type under `oms.order.`."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return event_type == pattern


def matches_any(patterns: Iterable[str], event_type: str) -> bool:
    return any(matches(pattern, event_type) for pattern in patterns)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: the n-th retry waits between half and all of `base_s * 2**(n-1)`, at most
    `cap_s` (half fixed, so retries never bunch at zero; half random, so failed subscribers do not retry in step)."""

    base_s: float = 2.0
    cap_s: float = 3600.0

    def delay(self, failed_attempts: int, draw: Callable[[], float] = random.random) -> timedelta:
        """How long to wait after the `failed_attempts`-th failed attempt (1 for the first)."""
        exponent = min(max(failed_attempts - 1, 0), 40)  # 2**40 * base is past any cap; no float overflow
        ceiling = min(self.cap_s, self.base_s * 2**exponent)
        return timedelta(seconds=ceiling / 2 + draw() * ceiling / 2)


def is_given_up(first_attempt: datetime, now: datetime, window: timedelta = RETRY_WINDOW) -> bool:
    """True once a failing delivery has been tried for the whole retry window."""
    return now - first_attempt >= window


def should_pause(failures_in_a_row: int, threshold: int = PAUSE_AFTER_FAILURES) -> bool:
    return failures_in_a_row >= threshold


def is_success(status_code: int | None) -> bool:
    """A 2xx answer; anything else (a redirect included: webhooks are not followed) or no answer is a failure."""
    return status_code is not None and 200 <= status_code < 300


class BadSecret(ValueError):
    """A signing secret not of the form `whsec_<base64 of 24 to 64 bytes>`."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_secret(secret: str) -> str:
    """`secret` itself when it is `whsec_` and the base64 of 24 to 64 random bytes."""
    if not secret.startswith(SECRET_PREFIX):
        raise BadSecret("the secret must start with whsec_")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise BadSecret("after whsec_ the secret must be base64") from None
    if not 24 <= len(key) <= 64:
        raise BadSecret(f"the secret must hold 24 to 64 bytes, not {len(key)}")
    return secret
