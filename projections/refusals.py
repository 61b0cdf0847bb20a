"""Records a view's owning processor dead-lettered: left out of the view, found by their position on the log.

A processor dead-letters a record it cannot take (a wrong key or partition, a record too large, a request it
refuses) and never applies it; the view must fold as if it were not on the log. The dead letter names the record by
topic, partition and offset: an event id can be forged or repeated, so a copy with the same id elsewhere is another
record. It comes on another topic, so a projector may meet it before the record (a replay from the archive and the
audit read the dead-letter topic first) or after it (live, usually): before, the record is set aside when it comes;
after, the view undoes what it applied of it. Both leave the same rows: replay stays equal to live.

Each view says how (`RefusalPolicy`): whose dead letters count, how to undo a record it applied, and what it keeps of
a record it sets aside. The refusals are remembered per projection, in the same transaction as the views.

A view drops a redelivered event id, so when the record it took is refused later, another record with that id may
be the one the processor took (a copy sent to the wrong partition first, then where it belongs). Of the kinds the
processor may refuse, such copies are kept (`remember_copies`, rare: a redelivery of an input), and an undo moves to
the first copy not refused (`next_copy`) instead of taking the event back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, select

from events import DeadLetterRecorded, Event, EventData, decode, encode
from projections.rows import insert_new, inserted_keys
from projections.tables import refusals, refused_copies
from projections.timeline import Positioned

RecordPosition = tuple[str, int, int]  # topic, partition, offset


@dataclass(frozen=True)
class Refusal:
    """A dead letter of the owning processor: which record it refused, and why."""

    topic: str
    partition: int
    offset: int
    kind: str
    reason: str

    @property
    def position(self) -> RecordPosition:
        return (self.topic, self.partition, self.offset)


Refused = tuple[Positioned, Refusal]


@dataclass(frozen=True)
class RefusalPolicy:
    """`processor`'s dead letters of records on `topics` (names without the prefix) are what a view leaves out.
    `undo` takes back what the view applied of refused records (those already folded when their dead letter came);
    `set_aside` keeps what the view shows of a refused record met after its dead letter (never a fold of it)."""

    processor: str
    topics: tuple[str, ...]
    undo: Callable[[Connection, str, Sequence[Refusal]], None]  # (connection, projection, refusals)
    set_aside: Callable[[Connection, Sequence[Refused]], None]
    may_refuse: tuple[type[EventData], ...]  # what the processor takes from others (its own outputs it passes over)

    def is_owned(self, topic: str) -> bool:
        """True for a topic (prefix and all) whose records `processor` takes."""
        return topic.endswith(self.topics)

    def refusals_in(self, events: Iterable[Event[EventData]]) -> list[Refusal]:
        return refusals_by(self.processor, self.topics, events)


def refusals_by(processor: str, topics: tuple[str, ...], events: Iterable[Event[EventData]]) -> list[Refusal]:
    """The dead letters among `events` that `processor` wrote of records on `topics` (names without the prefix)."""
    letters = [event.data for event in events if isinstance(event.data, DeadLetterRecorded)]
    return [
        Refusal(dead.source_topic, dead.source_partition, dead.source_offset, dead.kind, dead.reason[:500])
        for dead in letters
        if dead.processor == processor and dead.source_topic.endswith(topics)
    ]


def remembered(conn: Connection, projection: str, found: Sequence[Refusal]) -> list[Refusal]:
    """Remember `found` for `projection`; return those it did not know yet (a position dead-lettered twice, or a
    redelivered dead letter, is undone once)."""
    rows = [
        {"projection": projection, "topic": r.topic, "partition": r.partition, "offset": r.offset}
        | {"kind": r.kind, "reason": r.reason}
        for r in found
    ]
    by_position = {refusal.position: refusal for refusal in reversed(found)}  # (the first of a position wins)
    new = inserted_keys(conn, refusals, rows, ("topic", "partition", "offset"))
    return [by_position[position] for position in sorted(new)]


def refusals_at(
    conn: Connection, projection: str, positions: Iterable[RecordPosition]
) -> dict[RecordPosition, Refusal]:
    """The refusals `projection` remembers at any of `positions`. One query of one shape, run for every batch: the
    refusals between the lowest and highest offset asked for, on any partition (the table is small, the offsets of
    one batch close together), sorted out here."""
    wanted = set(positions)
    if not wanted:
        return {}
    t = refusals.c
    offsets = [offset for _, _, offset in wanted]
    within = and_(t.projection == projection, t.offset.between(min(offsets), max(offsets)))
    found = (
        Refusal(*row) for row in conn.execute(select(t.topic, t.partition, t.offset, t.kind, t.reason).where(within))
    )
    return {refusal.position: refusal for refusal in found if refusal.position in wanted}


def remember_copies(conn: Connection, projection: str, policy: RefusalPolicy, dropped: Sequence[Positioned]) -> None:
    """Keep the records dropped as redeliveries of an id that the owning processor may refuse."""
    rows = [
        {"projection": projection, "topic": item.topic, "partition": item.partition, "offset": item.offset}
        | {"event_id": str(item.event.id), "value": encode(item.event).decode()}
        for item in dropped
        if policy.is_owned(item.topic) and isinstance(item.event.data, policy.may_refuse)
    ]
    insert_new(conn, refused_copies, rows)


def next_copy(conn: Connection, projection: str, event_id: str) -> Positioned | None:
    """The first copy of `event_id` (by position) that is not refused, no longer a copy once returned; else None."""
    c = refused_copies.c
    mine = and_(c.projection == projection, c.event_id == event_id)
    copies = conn.execute(
        select(c.topic, c.partition, c.offset, c.value).where(mine).order_by(c.topic, c.partition, c.offset)
    )
    found = [(str(topic), int(partition), int(offset), str(value)) for topic, partition, offset, value in copies]
    refused = refusals_at(conn, projection, [(topic, partition, offset) for topic, partition, offset, _ in found])
    for topic, partition, offset, value in found:
        if (topic, partition, offset) not in refused:
            at = and_(c.projection == projection, c.topic == topic, c.partition == partition, c.offset == offset)
            conn.execute(delete(refused_copies).where(at))
            return Positioned(topic, partition, offset, decode(value))
    return None
