"""Stock never out of bounds: the fold of `oms.inventory` per sku, checked at every offset.

On hand moves with received, adjusted, returned and committed; reserved with reserved, released (when
`was_reserved`) and committed (docs/event-flow.md). A record the inventory processor dead-lettered, whatever the
kind (a refused adjustment, but also a wrong key or partition, a record over 256 KiB), never happened for it: its
dead letter names it by topic, partition and offset, which is how it is left out (an id can be forged or repeated).
A redelivered id counts once, as every consumer drops it. Stock is folded per `data.sku`, the key the processor
keeps it under (the envelope's `subject` is not checked by anyone).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

from adapters.audit.findings import (
    INVENTORY_PROCESSOR,
    STOCK_BOUNDS,
    Logged,
    Violation,
    dead_lettered,
    evidence_of,
    home_events,
)
from events import (
    EventData,
    StockAdjusted,
    StockCommitted,
    StockReceived,
    StockReleased,
    StockReserved,
    StockReturned,
    topics,
)

CONTEXT_EVENTS = 3
"""Events of the sku shown before the one that broke a bound."""


@dataclass(frozen=True)
class StockLevels:
    """One sku's stock after some offset. `supplied`: received + returned + positive adjustments;
    `shipped`: committed."""

    on_hand: int = 0
    reserved: int = 0
    supplied: int = 0
    shipped: int = 0


BOUNDS: tuple[tuple[str, Callable[[StockLevels], bool]], ...] = (
    ("on hand below zero", lambda s: s.on_hand < 0),
    ("reserved below zero", lambda s: s.reserved < 0),
    ("reserved above on hand", lambda s: s.reserved > s.on_hand),
    ("more shipped than ever supplied", lambda s: s.shipped > s.supplied),
)
"""Each bound by name, with the predicate that is true when it is broken."""


def moved(levels: StockLevels, data: EventData) -> StockLevels | None:
    """The levels after `data`, or None for an event that does not move stock."""
    match data:
        case StockReceived() | StockReturned():
            return replace(levels, on_hand=levels.on_hand + data.qty, supplied=levels.supplied + data.qty)
        case StockAdjusted():
            supplied = levels.supplied + max(data.delta, 0)
            return replace(levels, on_hand=levels.on_hand + data.delta, supplied=supplied)
        case StockReserved():
            return replace(levels, reserved=levels.reserved + data.qty)
        case StockReleased() if data.was_reserved:
            return replace(levels, reserved=levels.reserved - data.qty)
        case StockCommitted():
            return replace(
                levels,
                on_hand=levels.on_hand - data.qty,
                reserved=levels.reserved - data.qty,
                shipped=levels.shipped + data.qty,
            )
    return None


def stock_out_of_bounds(log: Sequence[Logged]) -> list[Violation]:
    """Every offset of `oms.inventory` at which a sku's stock crosses one of `BOUNDS` (each crossing once)."""
    events = home_events(log)
    refused = dead_lettered(events, processor=INVENTORY_PROCESSOR)
    levels: dict[str, StockLevels] = {}
    recent: dict[str, deque[Logged]] = {}
    seen: set[str] = set()
    violations: list[Violation] = []
    for item in events:
        event_id = str(item.event.id)
        if item.base_topic != topics.INVENTORY or item.position in refused or event_id in seen:
            continue
        seen.add(event_id)
        sku = item.event.data.partition_key()
        before = levels.get(sku, StockLevels())
        after = moved(before, item.event.data)
        if after is None:
            continue
        context = recent.setdefault(sku, deque(maxlen=CONTEXT_EVENTS))
        violations += [
            _breach(sku, bound, item, before, after, tuple(context))
            for bound, is_broken in BOUNDS
            if is_broken(after) and not is_broken(before)
        ]
        levels[sku] = after
        context.append(item)
    return violations


def _breach(
    sku: str, bound: str, item: Logged, before: StockLevels, after: StockLevels, context: tuple[Logged, ...]
) -> Violation:
    return Violation(
        STOCK_BOUNDS,
        sku,
        f"{sku}: {bound} at {item.topic}[{item.partition}]@{item.offset} ({item.event.type}): "
        f"on hand {before.on_hand} -> {after.on_hand}, reserved {before.reserved} -> {after.reserved}, "
        f"shipped {after.shipped} of {after.supplied} supplied",
        (*(evidence_of(earlier) for earlier in context), evidence_of(item)),
        {"bound": bound, "before": asdict(before), "after": asdict(after)},
    )
