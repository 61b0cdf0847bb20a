"""Which channel orders the intake has already published: (channel, external id) -> order id.

SQLite under the data folder by default (its own file, so it never waits on the views' writers), or
the PostgreSQL database of `OMS_DATABASE_URL`. Written after the publish is acknowledged: a crash in
between re-publishes the same event id on the next delivery, which consumers drop.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, create_engine, select, text
from sqlalchemy.exc import SQLAlchemyError

from adapters.settings import Settings
from projections.rows import insert_new

metadata = MetaData()

intake_orders = Table(
    "intake_orders",
    metadata,
    Column("channel", String(40), primary_key=True),
    Column("external_id", String(128), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
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

    def is_reachable(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def close(self) -> None:
        self._engine.dispose()


def intake_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{settings.data_dir / 'intake.sqlite3'}"
