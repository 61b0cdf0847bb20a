"""No key's state goes back: per key of a processor table, the offsets it has applied only ever grow.

A changelog record's value is JSON `{"s": <state or null>, "o": {"<topic>:<partition>": <last applied
offset>}, ...}` keyed by the state key (pipeline/stages/stored.py); everything but `o` is opaque here. From one
record of a key to the next, an offset that decreases, or a position that disappears, means a worker
restored the key to an older state and applied inputs again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from adapters.audit.findings import (
    CHANGELOG_MONOTONIC,
    CHANGELOG_READABLE,
    ChangelogRecord,
    Evidence,
    Violation,
)

SHOWN_BYTES = 200


class UnreadableChangelogRecord(ValueError):
    """A changelog value that is not the JSON object with applied offsets the processors write."""


def applied_offsets(value: bytes) -> dict[str, int]:
    """The `o` of a changelog value: per source position, the last offset applied to the key."""
    try:
        parsed: Any = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise UnreadableChangelogRecord(f"not JSON ({error})") from None
    offsets = parsed.get("o") if isinstance(parsed, dict) else None
    if not isinstance(offsets, dict):
        raise UnreadableChangelogRecord("no object of applied offsets ('o') in the value")
    if not all(isinstance(offset, int) and not isinstance(offset, bool) for offset in offsets.values()):
        raise UnreadableChangelogRecord("an applied offset in 'o' is not an integer")
    return {str(position): offset for position, offset in offsets.items()}


def went_back(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int | None]]:
    """The positions whose applied offset is lower in `after` (or gone from it): position -> (before, after)."""
    return {
        position: (offset, after.get(position))
        for position, offset in before.items()
        if after.get(position, -1) < offset
    }


def changelog_findings(records: Sequence[ChangelogRecord]) -> list[Violation]:
    """Keys whose applied offsets went back, and records that cannot be read. `records` in log order."""
    last: dict[tuple[str, str | None], tuple[ChangelogRecord, dict[str, int]]] = {}
    violations: list[Violation] = []
    for record in records:
        key = (record.topic, record.key)
        if not record.value:  # a tombstone: the key was deleted and starts anew
            last.pop(key, None)
            continue
        try:
            offsets = applied_offsets(record.value)
        except UnreadableChangelogRecord as error:
            violations.append(_unreadable(record, str(error)))
            continue
        previous = last.get(key)
        regressions = went_back(previous[1], offsets) if previous is not None else {}
        if previous is not None and regressions:
            violations.append(_regression(previous, (record, offsets), regressions))
        last[key] = (record, offsets)
    return violations


def _regression(
    previous: tuple[ChangelogRecord, dict[str, int]],
    current: tuple[ChangelogRecord, dict[str, int]],
    regressions: dict[str, tuple[int, int | None]],
) -> Violation:
    record = current[0]
    what = ", ".join(
        f"{position} {before} -> {'gone' if after is None else after}"
        for position, (before, after) in regressions.items()
    )
    return Violation(
        CHANGELOG_MONOTONIC,
        f"{record.topic} key {record.key}",
        f"key {record.key} of {record.topic} went back between changelog offsets {previous[0].offset} and "
        f"{record.offset}: {what} (a restored worker rewound the key and applied its inputs again)",
        (_evidence(*previous), _evidence(*current)),
        {"positions": {position: list(pair) for position, pair in regressions.items()}},
    )


def _unreadable(record: ChangelogRecord, reason: str) -> Violation:
    shown = (record.value or b"")[:SHOWN_BYTES].decode("utf-8", "replace")
    return Violation(
        CHANGELOG_READABLE,
        f"{record.topic} key {record.key}",
        f"changelog record {record.topic}[{record.partition}]@{record.offset} of key {record.key}: {reason}",
        (Evidence(record.topic, record.partition, record.offset, None, None, {"key": record.key, "value": shown}),),
    )


def _evidence(record: ChangelogRecord, offsets: dict[str, int]) -> Evidence:
    return Evidence(record.topic, record.partition, record.offset, None, None, {"key": record.key, "o": offsets})
