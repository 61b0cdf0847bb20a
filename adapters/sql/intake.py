"""Which channel orders the intake has already published: (channel, external id) -> order id; and, per
order, the last value it published of each aspect of a shop's updates (its lines, payment, cancellation,
each refund), so a webhook that says nothing new publishes nothing.

SQLite under the data folder by default (its own file, so it never waits on the views' writers), or
the PostgreSQL database of `OMS_DATABASE_URL`. Written after the publish is acknowledged: a crash in
between re-publishes the same event id on the next delivery, which consumers drop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, Text, create_engine, select, text
from sqlalchemy.exc import SQLAlchemyError

from adapters.settings import Settings
from projections.rows import insert_new, upsert

metadata = MetaData()

intake_orders = Table(
    "intake_orders",
    metadata,
    Column("channel", String(40), primary_key=True),
    Column("external_id", String(128), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class PublishedFact:
    """The value of one aspect of an order the intake published last: a digest of its event data, when the
    shop had changed the order then (None: the shop did not say), and the data as JSON."""

    aspect: str
    fingerprint: str
    changed_at: datetime | None
    content: str


intake_facts = Table(
    "intake_facts",
    metadata,
    Column("channel", String(40), primary_key=True),
    Column("external_id", String(128), primary_key=True),
    Column("aspect", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=True),
    Column("content", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)


class IntakeStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        metadata.create_all(engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> IntakeStore:
        return cls(create_engine(intake_url(settings), pool_pre_ping=True))

    def known(self, channel: str, external_ids: Iterable[str]) -> dict[str, str]:
        """The order ids already given to these external ids of `channel`."""
        wanted = sorted(set(external_ids))
        query = select(intake_orders.c.external_id, intake_orders.c.order_id).where(
            intake_orders.c.channel == channel, intake_orders.c.external_id.in_(wanted)
        )
        with self._engine.connect() as conn:
            return {external_id: order_id for external_id, order_id in conn.execute(query)}

    def remember(self, channel: str, accepted: Iterable[tuple[str, str]]) -> None:
        """Record (external id, order id) pairs; pairs already recorded are left as they are."""
        now = datetime.now(UTC)
        rows = [{"channel": channel, "external_id": e, "order_id": o, "accepted_at": now} for e, o in accepted]
        with self._engine.begin() as conn:
            insert_new(conn, intake_orders, rows)

    def published_facts(self, channel: str, external_id: str) -> dict[str, PublishedFact]:
        """Per aspect, the value last published for this channel order."""
        table = intake_facts
        query = select(table.c.aspect, table.c.fingerprint, table.c.changed_at, table.c.content).where(
            table.c.channel == channel, table.c.external_id == external_id
        )
        with self._engine.connect() as conn:
            return {
                row.aspect: PublishedFact(row.aspect, row.fingerprint, _utc(row.changed_at), row.content)
                for row in conn.execute(query)
            }

    def remember_facts(self, channel: str, external_id: str, facts: Iterable[PublishedFact]) -> None:
        """Record each fact as its aspect's last published value (replacing the one before)."""
        now = datetime.now(UTC)
        rows = [
            {
                "channel": channel,
                "external_id": external_id,
                "aspect": fact.aspect,
                "fingerprint": fact.fingerprint,
                "changed_at": fact.changed_at.astimezone(UTC) if fact.changed_at else None,
                "content": fact.content,
                "recorded_at": now,
            }
            for fact in facts
        ]
        with self._engine.begin() as conn:
            upsert(conn, intake_facts, rows)

    def is_reachable(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def close(self) -> None:
        self._engine.dispose()


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite gives back what it stored without its offset; the store only ever writes UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def intake_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{settings.data_dir / 'intake.sqlite3'}"
