"""A per-client token bucket, in memory: enough for one API process (a fleet needs a shared store)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request


def client_address(request: Request) -> str:
    """The peer address, the key a client is limited by (behind a proxy, run uvicorn with --forwarded-allow-ips
    so this is the client)."""
    return request.client.host if request.client else "unknown"


@dataclass
class TokenBucketLimiter:
    """`burst` requests at once per client, refilled at `per_second`."""

    burst: float = 10.0
    per_second: float = 0.5
    clock: Callable[[], float] = time.monotonic
    max_clients: int = 100_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def allow(self, client: str) -> bool:
        """Take one token for `client`; False when its bucket is empty."""
        now = self.clock()
        with self._lock:
            tokens, stamp = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - stamp) * self.per_second)
            allowed = tokens >= 1.0
            self._buckets[client] = (tokens - 1.0 if allowed else tokens, now)
            if len(self._buckets) > self.max_clients:
                self._forget_full(now)
        return allowed

    def has_tokens(self, client: str) -> bool:
        """Whether `client` could take a token now, without taking it."""
        now = self.clock()
        with self._lock:
            tokens, stamp = self._buckets.get(client, (self.burst, now))
        return min(self.burst, tokens + (now - stamp) * self.per_second) >= 1.0

    def retry_after(self) -> int:
        return max(1, round(1.0 / self.per_second))

    def _forget_full(self, now: float) -> None:
        """Buckets that have refilled completely carry no information: drop them to bound memory."""
        full = [c for c, (t, s) in self._buckets.items() if t + (now - s) * self.per_second >= self.burst]
        for client in full:
            del self._buckets[client]
