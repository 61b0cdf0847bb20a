"""Notification stage: render the requested message and hand it to the notifier port, once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events import Event, EventData, NotificationRequested, NotificationSent, caused_by
from pipeline.ports import Notifier, OutgoingMessage
from pipeline.rules.common import Decision
from pipeline.rules.notifications import render
from pipeline.shell import HandlerFailed

SOURCE = "oms.pipeline.notify"
IGNORED = frozenset({"oms.notification.sent"})
SENT_KEPT = 200


class NotifyState(BaseModel):
    model_config = ConfigDict(frozen=True)

    sent: tuple[str, ...] = ()  # request ids already handed to the notifier


def handler(
    notifier: Notifier,
) -> Callable[[NotifyState | None, Event[EventData], datetime], Awaitable[Decision[NotifyState]]]:
    async def handle(state: NotifyState | None, event: Event[EventData], now: datetime) -> Decision[NotifyState]:
        state = state or NotifyState()
        request = event.data
        if not isinstance(request, NotificationRequested) or str(event.id) in state.sent:
            return Decision(state, ())
        rendered = render(request.kind, request.language, request.params)
        message = OutgoingMessage(
            message_id=str(event.id),
            recipient=request.recipient,
            recipient_name=request.recipient_name,
            subject=rendered.subject,
            body=rendered.body,
            language=rendered.language,
            date=event.time,
        )
        try:
            await notifier.send(message)
        except OSError as error:
            raise HandlerFailed("notifier_failed", f"{notifier.name} could not send: {error}") from error
        sent = NotificationSent(
            order_id=request.order_id,
            request_id=str(event.id),
            kind=request.kind,
            notifier=notifier.name,
            language=rendered.language,
            subject=rendered.subject,
        )
        remembered = (*state.sent[-(SENT_KEPT - 1) :], str(event.id))
        return Decision(NotifyState(sent=remembered), (caused_by(event, "sent", sent, source=SOURCE, time=now),))

    return handle
