"""Stock never out of bounds: the fold of `oms.inventory` per sku, checked at every offset.

On hand moves with received, adjusted, returned and committed; reserved with reserved, released (when
`was_reserved`) and committed (docs/event-flow.md). A record the inventory processor dead-lettered, whatever the
kind (a refused adjustment, but also a wrong key or partition, a record over 256 KiB), never happened for it: its
dead letter names it by topic, partition and offset, which is how it is left out (an id can be forged or repeated).
A redelivered id counts once, as every consumer drops it. Stock is folded per `data.sku`, the key the processor
keeps it under (the envelope's `subject` is not checked by anyone).

The processor decides a batch of inputs, then appends the batch's outputs: a lagging worker's outputs land after
inputs that came later than their cause. A negative adjustment read before the reservations the processor decided
ahead of it would show reserved above on hand where the processor never had it (chaos seed 8006): a reservation is
checked against on hand as it was when its cause was decided, with the later negative adjustments given back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import orjson

from adapters.audit.findings import (
    INVENTORY_PROCESSOR,
    STOCK_BOUNDS,
    ChangelogRecord,
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

SKU_STATE_CHANGELOG = "-sku_to_stock-changelog"
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
    seen: dict[str, int] = {}  # event id -> its offset
    taken_off: dict[str, list[tuple[int, int]]] = {}  # sku -> (offset, units) of each negative adjustment folded
    violations: list[Violation] = []
    for item in events:
        event_id = str(item.event.id)
        if item.base_topic != topics.INVENTORY or item.position in refused or event_id in seen:
            continue
        seen[event_id] = item.offset
        sku = item.event.data.partition_key()
        before = levels.get(sku, StockLevels())
        after = moved(before, item.event.data)
        if after is None:
            continue
        if isinstance(item.event.data, StockAdjusted) and item.event.data.delta < 0:
            taken_off.setdefault(sku, []).append((item.offset, -item.event.data.delta))
        given_back = _adjusted_after_cause(item, seen, taken_off.get(sku, ()))
        checked_before, checked_after = _on_hand_plus(before, given_back), _on_hand_plus(after, given_back)
        context = recent.setdefault(sku, deque(maxlen=CONTEXT_EVENTS))
        violations += [
            _breach(sku, bound, item, before, after, tuple(context))
            for bound, is_broken in BOUNDS
            if is_broken(checked_after) and not is_broken(checked_before)
        ]
        levels[sku] = after
        context.append(item)
    return violations


def _adjusted_after_cause(item: Logged, seen: dict[str, int], taken_off: Sequence[tuple[int, int]]) -> int:
    """For an output of the inventory processor: the units negative adjustments took off after its cause (on the
    log, before the output itself), which the processor had not applied yet when it decided the output."""
    if not isinstance(item.event.data, StockReserved) or item.event.causationid not in seen:
        return 0
    cause = seen[item.event.causationid]
    return sum(units for offset, units in taken_off if cause < offset < item.offset)


def _on_hand_plus(levels: StockLevels, units: int) -> StockLevels:
    return replace(levels, on_hand=levels.on_hand + units) if units else levels


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


def decided_stock_out_of_bounds(records: Sequence[ChangelogRecord]) -> list[Violation]:
    """Every state the inventory processor wrote (its changelog, one record per sku and decision) with more reserved
    than on hand, or either below zero: the bound as the processor itself had it, decision by decision."""
    violations = []
    for record in records:
        if not record.topic.endswith(SKU_STATE_CHANGELOG) or record.value is None:
            continue
        levels = _decided_levels(record.value)
        if levels is None:
            continue  # unreadable records are the changelog check's business
        on_hand, reserved = levels
        broken = [bound for bound, is_broken in BOUNDS[:3] if is_broken(StockLevels(on_hand, reserved))]
        violations += [
            Violation(
                STOCK_BOUNDS,
                record.key or "?",
                f"{record.key}: {bound} in the inventory processor's state at {record.topic}[{record.partition}]"
                f"@{record.offset}: on hand {on_hand}, reserved {reserved}",
                (),
                {"bound": bound, "decided": {"on_hand": on_hand, "reserved": reserved}},
            )
            for bound in broken
        ]
    return violations


def _decided_levels(value: bytes) -> tuple[int, int] | None:
    try:
        state = orjson.loads(value).get("s")
        reservations = state.get("reservations", {}) if state else {}
        return int(state["on_hand"]), sum(int(qty) for qty in reservations.values())
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return None
