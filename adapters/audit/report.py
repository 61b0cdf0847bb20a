"""One audit: read the views' snapshot, then the log to its end, and check every invariant over both.

`audit_records` is everything after the reads (tests hand it records built by hand); `run_audit` reads the
views and the topics, then calls it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from adapters.audit.changelogs import changelog_findings
from adapters.audit.findings import INVARIANTS, Violation, violation_counts
from adapters.audit.invariants import cancelled_orders_shipped, effects_repeated, orders_without_decision
from adapters.audit.log import AuditTopics, RawLog, decoded_log, read_log
from adapters.audit.parcels import dispatches_not_applied, shipments_not_dispatched
from adapters.audit.stock import decided_stock_out_of_bounds, stock_out_of_bounds
from adapters.audit.views import (
    VIEW_PROJECTIONS,
    ViewSnapshot,
    ViewsUnavailable,
    folded_views,
    read_view_snapshot,
    view_differences,
)
from events import utc_now

DEFAULT_GRACE = timedelta(seconds=60)


@dataclass(frozen=True)
class AuditReport:
    checked_at: datetime
    duration_s: float
    violations: tuple[Violation, ...]
    records_read: int
    undecodable: int
    notes: tuple[str, ...] = ()

    @property
    def is_clean(self) -> bool:
        return not self.violations

    def counts(self) -> dict[str, int]:
        return violation_counts(self.violations)

    def as_dict(self) -> dict[str, Any]:
        return {
            "clean": self.is_clean,
            "checked_at": self.checked_at.isoformat(),
            "duration_s": round(self.duration_s, 3),
            "records_read": self.records_read,
            "undecodable": self.undecodable,
            "counts": self.counts(),
            "violations": [violation.as_dict() for violation in self.violations],
            "notes": list(self.notes),
        }


def audit_records(
    raw: RawLog,
    snapshot: ViewSnapshot | None,
    audit_topics: AuditTopics,
    *,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
) -> AuditReport:
    """The violations in `raw` (and between it and the views' `snapshot`, unless None), with notes on what
    could not be checked. Its duration is left at 0 for the caller to fill in."""
    log = decoded_log(raw.records, audit_topics)
    violations = [
        *orders_without_decision(log.events, now=now, grace=grace),
        *stock_out_of_bounds(log.events),
        *decided_stock_out_of_bounds(log.changelogs),
        *effects_repeated(log.events),
        *cancelled_orders_shipped(log.events),
        *shipments_not_dispatched(log.events, now=now, grace=grace),
        *dispatches_not_applied(log.events, now=now, grace=grace),
        *changelog_findings(log.changelogs),
    ]
    notes = [
        f"{topic}[{partition}] starts at offset {raw.starts[(topic, partition)]} (retention): folds over it may "
        "report what the missing records would explain"
        for topic, partition in raw.truncated()
    ]
    if snapshot is None:
        notes.append("views not checked: no views database with projection positions")
    else:
        folded = folded_views(raw.records, snapshot.positions, VIEW_PROJECTIONS)
        violations += view_differences(snapshot, folded, log.events)
    violations.sort(key=lambda violation: INVARIANTS.index(violation.invariant))  # (stable: log order within one)
    return AuditReport(now, 0.0, tuple(violations), len(raw.records), log.undecodable, tuple(notes))


async def run_audit(
    *,
    bootstrap: str,
    views: Engine | None,
    audit_topics: AuditTopics,
    grace: timedelta = DEFAULT_GRACE,
    timeout_s: float = 60.0,
) -> AuditReport:
    """Audit the log and the views now. The views are read first: the log read after them reaches at least
    as far as every position they have consumed."""
    started, checked_at = time.perf_counter(), utc_now()
    snapshot = await asyncio.to_thread(_snapshot_or_none, views)
    raw = await read_log(bootstrap, audit_topics.every_topic, timeout_s=timeout_s)
    report = await asyncio.to_thread(audit_records, raw, snapshot, audit_topics, now=checked_at, grace=grace)
    return replace(report, duration_s=time.perf_counter() - started)


def _snapshot_or_none(views: Engine | None) -> ViewSnapshot | None:
    if views is None:
        return None
    try:
        return read_view_snapshot(views)
    except ViewsUnavailable:
        return None
