"""Row helpers shared by every view: bulk load by key, bulk upsert, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, tuple_
from sqlalchemy.dialects import postgresql, sqlite

Row = dict[str, Any]

_CHUNK = 500  # keeps IN lists well under SQLite's bound-parameter limit


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def primary_key(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.primary_key.columns)


def key_of(table: Table, row: Row) -> tuple[Any, ...]:
    return tuple(row[name] for name in primary_key(table))


def load_rows(conn: Connection, table: Table, keys: Collection[tuple[Any, ...]]) -> dict[tuple[Any, ...], Row]:
    """The existing rows of `table` whose primary key is in `keys`, by key."""
    columns = [table.c[name] for name in primary_key(table)]
    found: dict[tuple[Any, ...], Row] = {}
    for part in chunks(sorted(keys, key=repr)):
        where = columns[0].in_([k[0] for k in part]) if len(columns) == 1 else tuple_(*columns).in_(part)
        for row in conn.execute(table.select().where(where)).mappings():
            found[key_of(table, dict(row))] = dict(row)
    return found


def upsert(conn: Connection, table: Table, rows: Iterable[Row]) -> None:
    """Insert `rows`, or overwrite every non-key column where the primary key exists."""
    batch = list(rows)
    if not batch:
        return
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(table)
    keys = primary_key(table)
    updates = {column.name: statement.excluded[column.name] for column in table.columns if column.name not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=updates), batch)


def insert_new(conn: Connection, table: Table, rows: Iterable[Row]) -> None:
    """Insert `rows`, leaving alone any whose primary key already exists."""
    batch = list(rows)
    if not batch:
        return
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), batch)


def inserted_keys(conn: Connection, table: Table, rows: Sequence[Row], key: str | tuple[str, ...]) -> set[Any]:
    """Insert the `rows` whose primary key is not there yet; return the `key` column (a tuple of columns: tuples)
    of those inserted.

    One INSERT .. ON CONFLICT DO NOTHING RETURNING: the check and the insert are the same statement, so its
    cost does not grow with the table. Of rows sharing a key, the first one is inserted.
    """
    if not rows:
        return set()
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    names = (key,) if isinstance(key, str) else key
    statement = dialect.insert(table).on_conflict_do_nothing().returning(*(table.c[name] for name in names))
    # by key (stable, so the first of equal keys stays first): concurrent writers take row locks in one order
    ordered = sorted(rows, key=lambda row: tuple(row[name] for name in names))
    returned = conn.execute(statement, ordered)
    return set(returned.scalars()) if isinstance(key, str) else {tuple(row) for row in returned}


def inserted_or_taken_over(
    conn: Connection, table: Table, rows: Sequence[Row], key: str, takes_over: ColumnElement[bool]
) -> set[Any]:
    """As `inserted_keys`, except that a row already there for which `takes_over` holds is overwritten by the new
    one, and counts as inserted. Of rows sharing a key only the first is offered (PostgreSQL refuses to update
    one row twice in a statement)."""
    if not rows:
        return set()
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    insert = dialect.insert(table)
    updates = {column.name: insert.excluded[column.name] for column in table.columns if column.name != key}
    statement = insert.on_conflict_do_update(index_elements=[key], set_=updates, where=takes_over)
    first = list({row[key]: row for row in reversed(rows)}.values())
    ordered = sorted(first, key=lambda row: row[key])
    return set(conn.execute(statement.returning(table.c[key]), ordered).scalars())


def table_rows(conn: Connection, table: Table) -> list[Row]:
    """Every row of `table` in primary-key order: what "row for row" compares."""
    order = [table.c[name] for name in primary_key(table)]
    return [dict(row) for row in conn.execute(table.select().order_by(*order)).mappings()]
