"""`oms project --reconcile-every S`: every S seconds, each live view against a shadow rebuilt from the archive up
to its positions; the count of differences goes where /metrics reads it (`view_reconciliations`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from adapters.sql.reconciliations import record_reconciliation
from adapters.sql.shadow import ShadowError, reconcile
from projections.projector import Projection

log = logging.getLogger(__name__)
LOGGED_DIFFERENCES = 20  # per view and round: the rest is in `oms replay VIEW --shadow`


@dataclass(frozen=True)
class ScheduledReconcile:
    views: Engine
    history: Engine
    projections: Sequence[Projection]
    every_s: float

    async def run(self, stop: asyncio.Event) -> None:
        """Reconcile every view each `every_s` seconds (the first round after one period) until `stop`."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.every_s)
                return
            except TimeoutError:
                pass
            for projection in self.projections:
                await asyncio.to_thread(self.reconcile_once, projection)

    def reconcile_once(self, projection: Projection) -> int | None:
        """The differences of `projection`'s live view now, recorded; None when it cannot be reconciled this round."""
        try:
            found = reconcile(self.views, self.history, projection)
        except ShadowError as reason:
            log.warning("reconcile %s: skipped this round: %s", projection.name, reason)
            return None
        found.shadow.dispose()
        count = len(found.differences)
        record_reconciliation(self.views, projection.name, count, found.events, found.seconds)
        for difference in found.differences[:LOGGED_DIFFERENCES]:
            log.warning("reconcile %s: %s", projection.name, difference.describe())
        log.info(
            "reconcile %s: %d differences (%d records, %.2fs)", projection.name, count, found.events, found.seconds
        )
        return count
