"""One outbound webhook request, signed the Standard Webhooks way by the `standardwebhooks` library.

Headers: `webhook-id` (the CloudEvent's id: the receiver's idempotency key, the same on every attempt and
redelivery), `webhook-timestamp` (seconds since the epoch, of this attempt) and `webhook-signature`
(`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`). The body is the CloudEvent as it was on the topic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

CONTENT_TYPE = "application/cloudevents+json"


def signed_headers(secret: str, webhook_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of `body` sent at `at` (timezone-aware)."""
    signature = Webhook(secret).sign(webhook_id, at.astimezone(UTC), body)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": CONTENT_TYPE,
    }


@dataclass(frozen=True)
class Attempt:
    """What one request came to: the answer's status (None when there was none), how long it took, and why it
    failed when it did (no response body is kept: it may hold the subscriber's data)."""

    status_code: int | None
    latency_ms: int
    error: str | None = None


@dataclass
class WebhookSender:
    """Posts signed deliveries through one shared HTTP client (redirects are not followed)."""

    timeout_s: float = 10.0
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    _http: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False)

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def send(self, url: str, secret: str, webhook_id: str, body: str) -> Attempt:
        if self._http is None:
            raise RuntimeError("WebhookSender.start() first")
        headers = signed_headers(secret, webhook_id, body, self.clock())
        started = time.monotonic()
        try:
            response = await self._http.post(url, content=body.encode(), headers=headers)
        except httpx.TimeoutException:
            return Attempt(None, _ms_since(started), f"no answer within {self.timeout_s:g} s")
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return Attempt(None, _ms_since(started), f"{type(error).__name__}: {error}"[:300])
        return Attempt(response.status_code, _ms_since(started))


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
