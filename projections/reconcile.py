"""Reconcile a live view with a shadow rebuilt from the archive up to the same log positions: every row that differs.

The shadow is the log's word: a row it has and the live view lacks is `missing`, a row only the live view has is
`extra`, and a row both have with another value in a column is `changed`, once per column. No column is left out of
the comparison: every time a view stores comes from an event's `time` (`updated_at` is the latest event's time,
never the wall clock), so a view rebuilt from the same records holds the same values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, Table, select

from projections.rows import Row
from projections.tracking import Position, tracked_offsets

Kind = Literal["missing", "extra", "changed"]
Key = tuple[object, ...]


@dataclass(frozen=True)
class Difference:
    table: str
    key: Mapping[str, object]
    kind: Kind
    column: str | None = None  # the column that differs (`changed` only)
    live: object = None
    shadow: object = None

    def describe(self) -> str:
        key = ", ".join(f"{name}={value}" for name, value in self.key.items())
        if self.kind == "changed":
            return f"{self.table} [{key}] changed {self.column}: live {self.live!r}, shadow {self.shadow!r}"
        where = "in the shadow only (missing from the live view)" if self.kind == "missing" else "in the live view only"
        return f"{self.table} [{key}] {self.kind}: {where}"


@dataclass(frozen=True)
class ViewSnapshot:
    """A view's rows (by table name) and the positions it had applied when they were read."""

    positions: dict[Position, int]
    tables: dict[str, list[Row]]


def row_differences(
    table: str, key_columns: Sequence[str], live: Iterable[Row], shadow: Iterable[Row]
) -> list[Difference]:
    """Every difference between the rows of one table, in key order (missing, extra, changed field by field)."""
    live_by_key = {_key(row, key_columns): row for row in live}
    shadow_by_key = {_key(row, key_columns): row for row in shadow}
    found: list[Difference] = []
    for key in sorted(live_by_key.keys() | shadow_by_key.keys(), key=repr):
        named = dict(zip(key_columns, key, strict=True))
        if key not in live_by_key:
            found.append(Difference(table, named, "missing"))
        elif key not in shadow_by_key:
            found.append(Difference(table, named, "extra"))
        else:
            found += _changed_fields(table, named, live_by_key[key], shadow_by_key[key])
    return found


def _changed_fields(table: str, key: Mapping[str, object], live: Row, shadow: Row) -> list[Difference]:
    return [
        Difference(table, key, "changed", column, live.get(column), shadow.get(column))
        for column in sorted(live.keys() | shadow.keys())
        if live.get(column) != shadow.get(column)
    ]


def _key(row: Row, key_columns: Sequence[str]) -> Key:
    return tuple(row[name] for name in key_columns)


def view_differences(tables: Sequence[Table], live: ViewSnapshot, shadow: ViewSnapshot) -> list[Difference]:
    """Every difference between two snapshots of the same view, table by table on the primary keys."""
    found: list[Difference] = []
    for table in tables:
        keys = [column.name for column in table.primary_key.columns]
        found += row_differences(table.name, keys, live.tables.get(table.name, []), shadow.tables.get(table.name, []))
    return found


def read_snapshot(conn: Connection, projection: str, tables: Sequence[Table]) -> ViewSnapshot:
    """`projection`'s positions and the rows of its tables, read on `conn` (the caller makes it one snapshot)."""
    positions = tracked_offsets(conn, projection)
    rows = {table.name: [dict(row) for row in conn.execute(select(table)).mappings()] for table in tables}
    return ViewSnapshot(positions, rows)
