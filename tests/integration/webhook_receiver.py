"""A local webhook subscriber for the tests: fails some requests at random, lets some time out, verifies the rest
with the `standardwebhooks` library's own verifier, and remembers what it took, in the order it took it."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Taken:
    webhook_id: str
    subject: str
    event_type: str


@dataclass
class FlakyReceiver:
    """`fail_share` of requests answer 500, `timeout_share` answer only after `hang_s` (past the sender's timeout)."""

    secret: str
    fail_share: float = 0.30
    timeout_share: float = 0.05
    hang_s: float = 1.0
    seed: int = 20
    taken: list[Taken] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._verifier = Webhook(self.secret)

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    def start(self) -> FlakyReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                code = receiver.answer(body, dict(self.headers.items()))
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default 5 drops the sender's concurrent connects (a 1 s SYN retry)

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def answer(self, body: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            draw = self._random.random()
        if draw < self.timeout_share:
            time.sleep(self.hang_s)
            self._count("timed out")
            return 503
        if draw < self.timeout_share + self.fail_share:
            self._count("failed")
            return 500
        try:
            event = self._verifier.verify(body, headers)
        except WebhookVerificationError:
            self._count("bad signature")
            return 400
        with self._lock:
            self.outcomes["taken"] += 1
            self.taken.append(Taken(headers["webhook-id"], event["subject"], event["type"]))
        return 204

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1

    def taken_ids(self) -> set[str]:
        with self._lock:
            return {t.webhook_id for t in self.taken}

    def first_takings_by_subject(self) -> dict[str, list[str]]:
        """Per subject, the event ids in the order each was first taken."""
        seen: set[str] = set()
        lines: dict[str, list[str]] = {}
        with self._lock:
            for t in self.taken:
                if t.webhook_id not in seen:
                    seen.add(t.webhook_id)
                    lines.setdefault(t.subject, []).append(t.webhook_id)
        return lines
