"""Who did what: the ops actions in the history archive, each with the `actor` its event names.

Read from the log (the archive keeps every message as it was consumed), not from a view: an action the processor
refused, or one no view shows, was still asked for by someone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from events import Event, EventData
from projections.archive import decoded
from projections.tables import archive
from projections.timeline import has_summary, summary_of

DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class OpsAction:
    time: datetime
    actor: str
    type: str
    subject: str
    summary: str
    event_id: str
    source: str


def ops_actions(
    conn: Connection, *, user: str | None = None, since: datetime | None = None, limit: int = DEFAULT_LIMIT
) -> list[OpsAction]:
    """The latest `limit` events that name an actor (only `user`'s when given, from `since` on), newest first; each
    event once, however many copies the log holds."""
    # a cheap first cut in SQL (the attribute's name in the stored JSON); the decoded event decides
    query = select(archive.c.value).where(archive.c.value.contains('"actor"'))
    if since is not None:
        query = query.where(archive.c.time >= since)
    query = query.order_by(archive.c.time.desc(), archive.c.topic, archive.c.partition, archive.c.offset.desc())
    found: list[OpsAction] = []
    seen: set[str] = set()
    for (value,) in conn.execute(query):
        event = decoded(value.encode())
        if event is None or event.actor is None or (user is not None and event.actor != user):
            continue
        if str(event.id) in seen:
            continue
        seen.add(str(event.id))
        found.append(
            OpsAction(event.time, event.actor, event.type, event.subject, _summary(event), str(event.id), event.source)
        )
        if len(found) >= limit:
            break
    return found


def _summary(event: Event[EventData]) -> str:
    """The timeline's words for an order's event; a stock action's fields otherwise (`qty=5, warehouse=main`)."""
    if has_summary(event):
        return summary_of(event)
    fields = event.data.model_dump(mode="json", exclude_none=True)
    return ", ".join(f"{name}={value}" for name, value in fields.items())[:500]
