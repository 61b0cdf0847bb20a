"""The history archive seen from outside: its Parquet export for analysts, through DuckDB.

One row per event: the archive keeps the log as it was, redeliveries and all, and the pipeline's internal topics
(the order processor's copy of each reservation answer); the export keeps each event id once, at its first
position in (topic, partition, offset) order, and only the public topics. Records that decode to no event (their
dead letter is the event) are left out. Written as a Hive-partitioned folder, `date=YYYY-MM-DD/type=.../*.parquet`,
with the payload fields analysts group by flattened into columns beside the whole CloudEvent.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Select, or_, select

from events import topics
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
_LINES = """from_json(json_extract(value, '$.data.lines'), '[{"sku": "VARCHAR", "qty": "BIGINT",
    "unit_price": "DECIMAL(18,4)"}]')"""
# The payload fields worth a column (NULL where the event type has no such field); `value` keeps the rest.
_FLATTENED = f"""
    coalesce(order_id, json_extract_string(value, '$.data.order_id')) AS order_id,
    json_extract_string(value, '$.data.sku') AS sku,
    json_extract_string(value, '$.data.channel') AS channel,
    TRY_CAST(json_extract_string(value, '$.data.qty') AS BIGINT) AS qty,
    TRY_CAST(json_extract_string(value, '$.data.amount') AS DECIMAL(18,4)) AS amount,
    json_extract_string(value, '$.data.currency') AS currency,
    json_extract_string(value, '$.data.reason') AS reason,
    json_extract_string(value, '$.data.carrier') AS carrier,
    json_extract_string(value, '$.data.customer.email') AS customer_email,
    TRY_CAST(json_extract_string(value, '$.data.placed_at') AS TIMESTAMPTZ) AS placed_at,
    TRY_CAST(json_extract_string(value, '$.data.delta') AS BIGINT) AS delta,
    CAST(list_sum(list_transform({_LINES}, lambda line: line.qty)) AS BIGINT) AS units,
    CAST(list_sum(list_transform({_LINES}, lambda line: line.qty * line.unit_price))
        + coalesce(TRY_CAST(json_extract_string(value, '$.data.shipping_charge') AS DECIMAL(18,4)), 0)
        - coalesce(TRY_CAST(json_extract_string(value, '$.data.discount') AS DECIMAL(18,4)), 0) AS DECIMAL(18,4))
        AS order_total,
    json_extract_string(value, '$.correlationid') AS correlation_id,
    json_extract_string(value, '$.causationid') AS causation_id"""
_CSV_COLUMNS = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in _DUCKDB_TYPES.items()) + "}"
_ONE_ROW_PER_EVENT = f"""
    SELECT CAST(time AS DATE) AS date, type, event_id, time, topic, "partition", "offset", key, {_FLATTENED}, value
    FROM read_csv(?, header = true, columns = {_CSV_COLUMNS})
    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY topic, "partition", "offset") = 1"""


def export_parquet(conn: Connection, out: Path, *, since: datetime | None = None, until: datetime | None = None) -> int:
    """Write the archive's events (time in [since, until]) under the folder `out` as Parquet partitioned by date and
    type; return the rows written (one per event id)."""
    import duckdb  # deferred: only exports need it

    _clear_previous_export(out)
    with tempfile.TemporaryDirectory() as folder:
        staged = Path(folder) / "history.csv"
        _stage_csv(conn, _public_events(since, until), staged)
        with duckdb.connect() as db:
            db.execute("SET TimeZone = 'UTC'")  # the date partition is the UTC day
            db.execute(f"CREATE TEMP TABLE events AS {_ONE_ROW_PER_EVENT}", [str(staged)])
            db.execute(f"COPY events TO '{_quoted(out)}' (FORMAT parquet, PARTITION_BY (date, type))")
            written = db.execute("SELECT count(*) FROM events").fetchone()
    return int(written[0]) if written else 0


class ExportFolderInUse(ValueError):
    """The folder holds something else than a previous export: nothing is written there (nor deleted)."""


def _clear_previous_export(out: Path) -> None:
    """An empty `out`, ready for the partitions: a previous export's day folders are removed (a day it had and this
    one has not would otherwise stay); a folder holding anything else is refused."""
    out.mkdir(parents=True, exist_ok=True)
    entries = list(out.iterdir())
    foreign = [entry.name for entry in entries if not (entry.is_dir() and entry.name.startswith("date="))]
    if foreign:
        raise ExportFolderInUse(f"{out} holds {', '.join(sorted(foreign)[:3])}: export into an empty folder")
    for entry in entries:
        shutil.rmtree(entry)


def _public_events(since: datetime | None, until: datetime | None) -> Select[tuple[object, ...]]:
    """The archived records on the public topics that decoded to an event, in log order."""
    on_public_topics = or_(*(archive.c.topic.endswith(name) for name in topics.PUBLIC_TOPICS))
    query = select(*(archive.c[name] for name in _COLUMNS)).where(on_public_topics, archive.c.event_id.is_not(None))
    if since is not None:
        query = query.where(archive.c.time >= since)
    if until is not None:
        query = query.where(archive.c.time <= until)
    return query.order_by(archive.c.topic, archive.c.partition, archive.c.offset)


def _stage_csv(conn: Connection, query: Select[tuple[object, ...]], staged: Path) -> None:
    with staged.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_COLUMNS)
        for row in conn.execute(query.execution_options(yield_per=5000)):
            writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, datetime) else v) for v in row])


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
