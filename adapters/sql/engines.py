"""SQL engines for the views and the history archive: SQLite (default, under OMS_DATA_DIR) or PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, make_url, text

from adapters.settings import Settings

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def views_url(settings: Settings) -> str:
    return settings.views_url


def archive_url(settings: Settings) -> str:
    """The archive lives beside the views on PostgreSQL, in its own file on SQLite."""
    return settings.database_url or f"sqlite:///{settings.data_dir / 'history.sqlite3'}"


def engine_for(url: str, *, schema: str | None = None, **options: Any) -> Engine:
    """An engine for `url`. SQLite gets WAL and a busy timeout (several processes read while one
    writes); `schema` (PostgreSQL only) puts every table in that schema, created if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, **options)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    engine = create_engine(url, pool_pre_ping=True, **options)
    if schema is not None:
        _use_schema(engine, schema)
    return engine


def existing_engine(url: str, tables: Collection[str]) -> Engine | None:
    """An engine for `url` when its database already holds one of `tables`; otherwise None, and nothing is
    created (a SQLite file that does not exist stays so)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not (parsed.database and Path(parsed.database).is_file()):
        return None
    engine = engine_for(url)
    if set(inspect(engine).get_table_names()) & set(tables):
        return engine
    engine.dispose()
    return None


def _sqlite_engine(url: str, database: str | None, **options: Any) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, **options)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Checkpoint every 64 MB of log, not every 4 MB: a page the projector rewrites in many batches is then
        # copied back once (30,000-order bench: 4.4 -> 3.4 GB written to disk)
        cursor.execute("PRAGMA wal_autocheckpoint=16384")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def _use_schema(engine: Engine, schema: str) -> None:
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"schema name {schema!r} must be lower-case letters, digits and underscores")
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.close()
        dbapi_connection.commit()

    engine.dispose()  # the connection that created the schema predates the listener


def drop_schema(url: str, schema: str) -> None:
    """Remove a schema and everything in it (tests clean up after themselves with this)."""
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"bad schema name {schema!r}")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def views_engine(settings: Settings) -> Engine:
    return engine_for(views_url(settings))


def archive_engine(settings: Settings) -> Engine:
    return engine_for(archive_url(settings))
