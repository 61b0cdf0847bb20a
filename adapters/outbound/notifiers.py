"""Notifier adapters: a file outbox (one .eml per message) and SMTP."""

from __future__ import annotations

import asyncio
import os
import smtplib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC
from email import quoprimime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any

from pipeline.ports import OutgoingMessage


def as_email(message: OutgoingMessage, sender: str) -> bytes:
    """The message as a MIME document (text/plain, UTF-8, quoted-printable so the .eml stays readable).

    Composed from the stdlib's encoders rather than `email.message`: its header folding took half of the
    notification stage's time under load (about 550 us a message against 15 us; see BENCHMARKS.md).
    """
    headers = (
        f"From: {_header(sender)}",
        f"To: {formataddr((_one_line(message.recipient_name or ''), message.recipient), charset='utf-8')}",
        f"Subject: {_header(message.subject)}",
        f"Date: {format_datetime(message.date.astimezone(UTC))}",  # RFC 5322 requires it; the request's time
        f"Message-ID: <{message.message_id}@oms.local>",  # lets mail systems drop a resend
        f"Content-Language: {_one_line(message.language)}",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
    )
    # quoprimime encodes each character as one byte: hand it the UTF-8 bytes, one character per byte
    body = quoprimime.body_encode(message.body.encode("utf-8").decode("latin-1"), maxlinelen=76, eol="\n")
    ending = "" if body.endswith("\n") else "\n"
    return ("\n".join(headers) + "\n\n" + body + ending).encode("ascii")


def _one_line(value: str) -> str:
    """No line breaks in a header value: they would let a name or subject add headers of its own."""
    return " ".join(value.splitlines())


def _header(value: str) -> str:
    value = _one_line(value)
    return value if value.isascii() else Header(value, "utf-8").encode()


@dataclass
class FileOutbox:
    """Writes each message once to `<folder>/<message id>.eml`; a repeated id is not written again.

    Creating a file can block for hundreds of microseconds when the disk's journal is busy (a database
    committing next door): 20 % of a busy worker's event loop sat in `open` (py-spy, `oms bench`). So the
    files are written by one thread, a batch at a time: every message queued while the loop runs goes in
    one hand-over, and each `send` returns once its own file is in place.
    """

    folder: Path
    sender: str = "orders@example.com"
    name: str = "outbox"
    _queued: list[tuple[OutgoingMessage, asyncio.Future[None]]] = field(default_factory=list, init=False, repr=False)
    _writer: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    async def send(self, message: OutgoingMessage) -> None:
        loop = asyncio.get_running_loop()
        written = loop.create_future()
        self._queued.append((message, written))
        if len(self._queued) == 1:  # the first of a batch: hand the batch over once this loop turn is done
            loop.call_soon(self._hand_over, loop)
        await written

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._queued = self._queued, []
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oms-outbox")
        outcome = loop.run_in_executor(self._writer, self._write_all, [message for message, _ in batch])
        outcome.add_done_callback(lambda done: _settle(batch, done))

    def _write_all(self, messages: list[OutgoingMessage]) -> list[OSError | None]:
        errors: list[OSError | None] = []
        for message in messages:
            try:
                self.write(message)
            except OSError as error:
                errors.append(error)
            else:
                errors.append(None)
        return errors

    def write(self, message: OutgoingMessage) -> None:
        target = self.folder / f"{message.message_id}.eml"
        if target.exists():
            return
        partial = target.with_suffix(".tmp")
        partial.write_bytes(as_email(message, self.sender))
        os.replace(partial, target)


def _settle(batch: list[tuple[OutgoingMessage, asyncio.Future[None]]], outcome: asyncio.Future[Any]) -> None:
    """Each sender learns how its own message went (a failure of the whole hand-over fails them all)."""
    failed = outcome.exception() if not outcome.cancelled() else asyncio.CancelledError()
    errors = outcome.result() if failed is None else [failed] * len(batch)
    for (_, written), error in zip(batch, errors, strict=True):
        if written.done():  # its sender gave up waiting (cancelled); the file is written all the same
            continue
        if error is None:
            written.set_result(None)
        else:
            written.set_exception(error)


@dataclass
class SmtpNotifier:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    timeout_s: float = 10.0
    name: str = "smtp"

    async def send(self, message: OutgoingMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: OutgoingMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as client:
            if self.username and self.password:
                client.starttls()
                client.login(self.username, self.password)
            client.sendmail(parseaddr(self.sender)[1], [message.recipient], as_email(message, self.sender))
