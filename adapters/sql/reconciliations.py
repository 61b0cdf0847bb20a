"""The latest reconciliation of each view, kept in the views database for /metrics to read."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from projections.tables import UtcDateTime

_metadata = MetaData()  # its own: the views' metadata is the projections' (`oms replay` builds it), this is ours

reconciliations = Table(
    "view_reconciliations",
    _metadata,
    Column("projection", String(60), primary_key=True),
    Column("differences", Integer, nullable=False),
    Column("events", Integer, nullable=False),  # archived records the shadow was rebuilt from
    Column("seconds", Float, nullable=False),
    Column("checked_at", UtcDateTime, nullable=False),
)


def record_reconciliation(views: Engine, projection: str, differences: int, events: int, seconds: float) -> None:
    with views.begin() as conn:
        _metadata.create_all(conn)
        conn.execute(delete(reconciliations).where(reconciliations.c.projection == projection))
        row = {"projection": projection, "differences": differences, "events": events, "seconds": seconds}
        conn.execute(insert(reconciliations), [{**row, "checked_at": datetime.now(UTC)}])


def latest_differences(views: Engine) -> dict[str, int]:
    """The difference count of each view's latest reconciliation (none when no reconciliation ever ran here)."""
    try:
        with views.connect() as conn:
            rows = conn.execute(select(reconciliations.c.projection, reconciliations.c.differences))
            return {projection: count for projection, count in rows}
    except SQLAlchemyError:
        return {}  # the table does not exist until the first reconciliation
