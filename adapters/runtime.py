"""Process-wide tuning for the long-running services (`oms worker`, `oms project`)."""

from __future__ import annotations

import gc

# Collect the youngest generation every 20,000 net allocations instead of 700, and the oldest far less often.
# A worker allocates heavily (events and states are pydantic models) and keeps few cycles, so with the
# defaults the collector ran full passes of ~200 ms every few seconds: 12 s of a 95 s `oms bench` run.
# With this and `gc.freeze()` it spent 1.5 s (measured with gc.callbacks; see BENCHMARKS.md).
GC_THRESHOLDS = (20_000, 20, 100)


def tune_gc() -> None:
    """Call once start-up is done: what was built so far (modules, schemas, the app) is never scanned again."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
