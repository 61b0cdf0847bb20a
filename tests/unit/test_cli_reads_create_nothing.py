"""Issue 15: a read never creates tables. The history archive read by `oms history` and `oms replay` is left with
the tables it had; only a command that writes the archive makes its tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from adapters.cli.reading import existing_archive
from adapters.settings import Settings
from adapters.sql.engines import archive_url
from projections.tables import archive


def test_reading_an_archive_adds_no_table_to_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OMS_DATABASE_URL", "OMS_ARCHIVE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(data_dir=tmp_path)
    url = archive_url(settings)
    made = create_engine(url)
    archive.create(made)  # an archive of another version, without the tracking tables
    made.dispose()

    existing_archive(settings).dispose()

    looked = create_engine(url)
    assert inspect(looked).get_table_names() == [archive.name]
    looked.dispose()
