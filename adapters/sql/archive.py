"""The history archive seen from outside: its Parquet export, through DuckDB."""

from __future__ import annotations

import csv
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, select

from projections.tables import archive

_COLUMNS = ("topic", "partition", "offset", "event_id", "type", "time", "key", "order_id", "value")
_DUCKDB_TYPES = {
    "topic": "VARCHAR",
    "partition": "INTEGER",
    "offset": "BIGINT",
    "event_id": "VARCHAR",
    "type": "VARCHAR",
    "time": "TIMESTAMPTZ",
    "key": "VARCHAR",
    "order_id": "VARCHAR",
    "value": "VARCHAR",
}


def export_parquet(conn: Connection, out: Path, *, since: datetime | None = None, until: datetime | None = None) -> int:
    """Write the archive (time in [since, until]) to `out` as Parquet; return the rows written."""
    import duckdb  # deferred: only exports need it

    query = select(*(archive.c[name] for name in _COLUMNS)).order_by(
        archive.c.topic, archive.c.partition, archive.c.offset
    )
    if since is not None:
        query = query.where(archive.c.time >= since)
    if until is not None:
        query = query.where(archive.c.time <= until)
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with tempfile.TemporaryDirectory() as folder:
        staged = Path(folder) / "history.csv"
        with staged.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(_COLUMNS)
            for row in conn.execute(query.execution_options(yield_per=5000)):
                writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, datetime) else v) for v in row])
                count += 1
        columns = ", ".join(f"'{name}': '{kind}'" for name, kind in _DUCKDB_TYPES.items())
        with duckdb.connect() as db:
            db.execute(
                f"COPY (SELECT * FROM read_csv(?, header = true, columns = {{{columns}}})) TO ? (FORMAT parquet)",
                [str(staged), str(out)],
            )
    return count
