"""The exceptions desk as the API, the dashboard, the CLI and the metrics read it, and the retry it publishes.

A retry is the dead letter's original event again, or a corrected event a person gives, under a new id whose
`causationid` and `correlationid` are the item's id: the desk's fold recognises it by that, and finds what the
pipeline made of it in its story (`projections.desk`). Its id derives from the item and the attempt, so a retry sent
twice before the desk has seen it repeats the same id, which every consumer drops.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, inspect

from events import DecodeError, Event, EventData, decode, derived_id
from projections import desk_reads
from projections.desk import original_event
from projections.desk_reads import DeskItem
from projections.tables import desk_items


class NotRetryable(ValueError):
    """The item cannot be retried as asked; the message says what to do instead."""


def retry_event(item: DeskItem, corrected: bytes | None = None) -> Event[EventData]:
    """The event a retry of `item` publishes: `corrected` (a CloudEvent, JSON) when given, else the original."""
    if item.category == "backorder":
        raise NotRetryable("a backorder clears when stock or an ETA comes in: receive or schedule stock instead")
    if corrected is not None:
        try:
            event = decode(corrected)
        except DecodeError as error:
            raise NotRetryable(f"the corrected event is refused ({error.kind}): {error}") from None
    else:
        found = original_event(item.original) if item.original else None
        if found is None:
            what = "the original bytes are no event" if item.original else "the desk keeps no original of it"
            raise NotRetryable(f"{what} ({item.kind}): give a corrected event")
        event = found
    attempt = len(item.retries) + 1
    new_id = derived_id(item.item_id, f"desk-retry:{attempt}:{event.id}")
    return event.model_copy(update={"id": new_id, "causationid": item.item_id, "correlationid": item.item_id})


@dataclass
class SqlDesk:
    """The desk's reads from the views database (empty until the desk projection has created its tables)."""

    engine: Engine

    def list_items(
        self, *, status: str | None = None, category: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[DeskItem], int]:
        if not self.is_ready():
            return [], 0
        with self.engine.connect() as conn:
            return desk_reads.list_items(conn, status=status, category=category, limit=limit, offset=offset)

    def get_item(self, item_id: str) -> DeskItem | None:
        if not self.is_ready():
            return None
        with self.engine.connect() as conn:
            return desk_reads.get_item(conn, item_id)

    def dead_letters_by_reason(self) -> dict[tuple[str, str], int]:
        if not self.is_ready():
            return {}
        with self.engine.connect() as conn:
            return desk_reads.dead_letters_by_reason(conn)

    def items_by_status(self) -> dict[tuple[str, str], int]:
        if not self.is_ready():
            return {}
        with self.engine.connect() as conn:
            return desk_reads.items_by_status(conn)

    def is_ready(self) -> bool:
        return inspect(self.engine).has_table(desk_items.name)
