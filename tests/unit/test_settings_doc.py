"""Issue 16, item 7: the README's configuration table is generated from `Settings`, so it lists every setting
and cannot drift (this test is the CI check; `python -m adapters.settings_doc --write` fixes a failure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.settings import Settings
from adapters.settings_doc import main, readme_with_table, settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_holds_the_table_generated_from_settings() -> None:
    readme = README.read_text()

    assert readme_with_table(readme) == readme, "run: python -m adapters.settings_doc --write"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_described_in_the_readme(name: str) -> None:
    field = Settings.model_fields[name]

    assert field.description, f"Settings.{name} needs a description: it is the README's text"
    assert f"| `OMS_{name.upper()}` |" in README.read_text()


def test_the_settings_the_newcomer_missed_are_listed_and_the_removed_one_is_not() -> None:
    table = settings_table()

    for variable in ("OMS_LOG_LEVEL", "OMS_REPLICATION_FACTOR", "OMS_BROKER_PORT", "OMS_CHANNEL_SECRET_<CHANNEL>"):
        assert f"`{variable}`" in table
    assert "OMS_PIPELINE_STATE" not in README.read_text()


def test_check_mode_fails_on_a_stale_readme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(README.read_text().replace("`OMS_LOG_LEVEL`", "`OMS_LOG_LEVEL_OLD`"))
    monkeypatch.setattr("adapters.settings_doc.README", stale)

    assert main(["--check"]) == 1
    assert main(["--write"]) == 0
    assert main(["--check"]) == 0
