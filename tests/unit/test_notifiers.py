"""The file outbox writes each message once; the SMTP notifier talks to a real SMTP server; both date each
message by its request, so a resend is the same message."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from adapters.kafka.broker import free_port
from adapters.outbound.notifiers import FileOutbox, SmtpNotifier, as_email
from events import NotificationRequested, new_event
from pipeline.ports import OutgoingMessage
from pipeline.stages import notify
from pipeline.stages.processor import HandlerFailed

REQUESTED_AT = datetime(2026, 1, 31, 14, 5, 9, tzinfo=timezone(timedelta(hours=1)))
MESSAGE = OutgoingMessage(
    message_id="3f1e2d",
    recipient="ada@example.com",
    recipient_name="Ada",
    subject="Your order o-1 is on its way",
    body="Track it at https://track.example/1Z",
    language="en",
    date=REQUESTED_AT,
)


async def test_file_outbox_writes_once(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path)
    await outbox.send(MESSAGE)
    written = tmp_path / "3f1e2d.eml"
    first = written.stat().st_mtime_ns
    await outbox.send(MESSAGE)
    assert written.stat().st_mtime_ns == first
    parsed = email.message_from_bytes(written.read_bytes())
    assert parsed["To"] == "Ada <ada@example.com>"
    assert parsed["Subject"] == MESSAGE.subject


def assert_dated_by_its_request(raw: bytes) -> None:
    """RFC 5322: one Date (the request's time, in UTC) and one Message-ID (the request's id)."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_all("Date") == ["Sat, 31 Jan 2026 13:05:09 +0000"]
    assert parsed["Date"].datetime == REQUESTED_AT
    assert parsed.get_all("Message-ID") == ["<3f1e2d@oms.local>"]
    assert not parsed.defects


async def test_the_file_outbox_dates_each_message_by_its_request(tmp_path: Path) -> None:
    await FileOutbox(tmp_path).send(MESSAGE)
    assert_dated_by_its_request((tmp_path / "3f1e2d.eml").read_bytes())


async def test_a_retried_notification_is_the_same_message_byte_for_byte() -> None:
    """The stage dates the message by the request's envelope, not by when it happens to send it: a send that
    failed and is retried an hour later gives the mail system the same Date and Message-ID to drop it by."""

    @dataclass
    class FailsOnce:
        name: str = "flaky"
        sent: list[bytes] = field(default_factory=list)

        async def send(self, message: OutgoingMessage) -> None:
            if not self.sent:
                self.sent.append(b"")
                raise OSError("connection refused")
            self.sent.append(as_email(message, "orders@example.com"))

    request = new_event(
        NotificationRequested(
            order_id="o-1", kind="confirmed", recipient="ada@example.com", params={"order_id": "o-1"}
        ),
        source="tests",
        time=REQUESTED_AT,
    )
    notifier = FailsOnce()
    handle = notify.handler(notifier)
    with pytest.raises(HandlerFailed):
        await handle(None, request, REQUESTED_AT)  # type: ignore[arg-type]
    await handle(None, request, REQUESTED_AT + timedelta(hours=1))  # type: ignore[arg-type]
    await handle(None, request, REQUESTED_AT + timedelta(days=1))  # type: ignore[arg-type]
    first, again = notifier.sent[1:]
    assert first == again
    parsed = email.message_from_bytes(first, policy=email.policy.default)
    assert parsed["Date"].datetime == REQUESTED_AT
    assert parsed["Message-ID"] == f"<{request.id}@oms.local>"


async def test_concurrent_sends_are_each_written_before_they_return(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path)

    async def send(n: int) -> bool:
        await outbox.send(replace(MESSAGE, message_id=f"m{n}"))
        return (tmp_path / f"m{n}.eml").exists()

    assert await asyncio.gather(*(send(n) for n in range(50))) == [True] * 50
    assert sorted(os.listdir(tmp_path)) == sorted(f"m{n}.eml" for n in range(50))  # no partial file left


async def test_a_message_that_cannot_be_written_fails_only_its_own_send(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path)
    (tmp_path / "blocked.tmp").mkdir()  # the partial file cannot be created where a folder stands
    blocked = outbox.send(replace(MESSAGE, message_id="blocked"))
    fine = outbox.send(replace(MESSAGE, message_id="fine"))
    outcomes = await asyncio.gather(blocked, fine, return_exceptions=True)
    assert isinstance(outcomes[0], OSError) and outcomes[1] is None
    assert (tmp_path / "fine.eml").exists() and not (tmp_path / "blocked.eml").exists()


async def test_file_outbox_keeps_every_language_intact(tmp_path: Path) -> None:
    german = OutgoingMessage(
        message_id="9a8b7c",
        recipient="jurgen@example.com",
        recipient_name="Jürgen Groß",
        subject="Ihre Bestellung o-2 ist unterwegs: Sendungsnummer für 1Z",
        body="Hallo Jürgen,\nverfolgen Sie sie unter https://track.example/1Z?ä=ö\n",
        language="de",
        date=REQUESTED_AT,
    )
    await FileOutbox(tmp_path).send(german)
    parsed = email.message_from_bytes((tmp_path / "9a8b7c.eml").read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == german.subject
    assert parsed["To"].addresses[0].display_name == "Jürgen Groß"
    assert parsed.get_content() == german.body
    assert parsed["Content-Language"] == "de"


def test_a_line_break_in_a_name_or_subject_cannot_add_a_header() -> None:
    sneaky = OutgoingMessage(
        message_id="5e5e5e",
        recipient="eve@example.com",
        recipient_name="Eve\r\nBcc: everyone@example.com",
        subject="Hello\nX-Injected: yes",
        body="Line one\nLine two with a very long tail " + "x" * 120 + "\n",
        language="en",
        date=REQUESTED_AT,
    )
    parsed = email.message_from_bytes(as_email(sneaky, "orders@example.com"), policy=email.policy.default)
    assert parsed["Bcc"] is None and parsed["X-Injected"] is None
    assert parsed["To"].addresses[0].addr_spec == "eve@example.com"
    assert parsed.get_content() == sneaky.body  # long lines survive the quoted-printable soft breaks


class Recorder:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


async def test_smtp_notifier_delivers_to_a_real_server() -> None:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        await SmtpNotifier("127.0.0.1", port, sender="orders@shop.example").send(MESSAGE)
        for _ in range(50):
            if recorder.messages:
                break
            await asyncio.sleep(0.05)
    finally:
        controller.stop()
    parsed = email.message_from_bytes(recorder.messages[0])
    assert parsed["Message-ID"] == "<3f1e2d@oms.local>"
    assert "https://track.example/1Z" in parsed.get_payload()
    assert_dated_by_its_request(recorder.messages[0])
