"""The analysts' export: one row per event id, public topics only, partitioned by date and type."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from sqlalchemy import Engine, func, select

from adapters.bench.seed import seed_archive
from adapters.sql.archive import ExportFolderInUse, export_parquet
from adapters.sql.engines import engine_for
from events import topics
from projections import archive as history
from projections.archive import Record, decoded
from projections.tables import archive, create_tables


@pytest.fixture
def archive_with_copies(tmp_path: Path) -> Engine:
    """A seeded archive (which already holds redeliveries), plus every placement archived twice more: once again on
    its own topic (a racing webhook redelivery) and once on an internal topic of the pipeline."""
    engine = engine_for(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    with engine.begin() as conn:
        create_tables(conn, [archive])
        seed_archive(conn, orders=40, seed=3)
        placed = [r for batch in history.iter_records(conn) for r in batch if b'"oms.order.placed"' in r.value]
        copies = [Record(r.topic, r.partition, r.offset + 10_000, r.key, r.value) for r in placed]
        copies += [Record(topics.ORDER_REPLIES, 0, i, r.key, r.value) for i, r in enumerate(placed)]
        history.append(conn, [(record, decoded(record.value)) for record in copies])
    return engine


def test_export_holds_one_row_per_event_id(archive_with_copies: Engine, tmp_path: Path) -> None:
    with archive_with_copies.connect() as conn:
        archived = conn.execute(select(func.count(), func.count(archive.c.event_id.distinct()))).one()
        written = export_parquet(conn, tmp_path / "export")
    rows, distinct = archived
    assert rows > distinct, "the archive under test must hold duplicates"
    exported = f"read_parquet('{tmp_path / 'export'}/**/*.parquet', hive_partitioning = true)"
    [(count, ids, internal)] = duckdb.sql(
        f"SELECT count(*), count(DISTINCT event_id), count(*) FILTER (topic NOT LIKE '%oms.%') FROM {exported}"
    ).fetchall()
    assert (written, count, ids, internal) == (distinct, distinct, distinct, 0)


def test_export_keeps_the_first_position_and_flattens_the_payload(archive_with_copies: Engine, tmp_path: Path) -> None:
    with archive_with_copies.connect() as conn:
        export_parquet(conn, tmp_path / "export")
    exported = f"read_parquet('{tmp_path / 'export'}/**/*.parquet', hive_partitioning = true)"
    placed = duckdb.sql(
        f'SELECT max("offset"), count(*) FILTER (channel IS NULL OR order_total IS NULL OR units IS NULL), '
        f"count(DISTINCT date) FROM {exported} WHERE type = 'oms.order.placed'"
    ).fetchall()
    [(last_offset, missing_fields, days)] = placed
    assert last_offset < 10_000, "a redelivered copy was exported instead of the first"
    assert missing_fields == 0 and days >= 1
    folders = {p.name.split("=")[0] for p in (tmp_path / "export").rglob("*=*")}
    assert folders == {"date", "type"}


def test_a_new_export_replaces_the_previous_one_and_refuses_a_folder_in_other_use(
    archive_with_copies: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    (out / "date=1999-01-01" / "type=oms.order.placed").mkdir(parents=True)
    with archive_with_copies.connect() as conn:
        written = export_parquet(conn, out)
        assert not (out / "date=1999-01-01").exists(), "a day of a previous export stayed"
        assert export_parquet(conn, out) == written
        (out / "notes.txt").write_text("mine")
        with pytest.raises(ExportFolderInUse, match=r"notes\.txt"):
            export_parquet(conn, out)
    assert (out / "notes.txt").read_text() == "mine"
