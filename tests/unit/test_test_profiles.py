"""Issue 16, item 8: the default run (`./dev test`) leaves out the nightly-marked long fuzz runs and draws fewer
examples; the nightly profile (`OMS_TEST_PROFILE=nightly`) runs every test with the full budgets. No test is
left out of the default run but the ones that only repeat a default check with more examples."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests import conftest, profiles
from tests.unit.test_api_fuzz import BUDGETS


@dataclass
class FakeItem:
    name: str
    markers: set[str]

    def get_closest_marker(self, name: str) -> str | None:
        return name if name in self.markers else None


@dataclass
class FakeConfig:
    deselected: list[FakeItem] = field(default_factory=list)

    @property
    def hook(self) -> FakeConfig:
        return self

    def pytest_deselected(self, items: list[FakeItem]) -> None:
        self.deselected += items


def collected(nightly: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    monkeypatch.setattr(conftest, "NIGHTLY", nightly)
    items = [FakeItem("quick", set()), FakeItem("long", {"slow", "nightly"}), FakeItem("e2e", {"slow"})]
    config = FakeConfig()
    conftest.pytest_collection_modifyitems(config, items)  # type: ignore[arg-type]
    return [item.name for item in items], [item.name for item in config.deselected]


def test_the_default_run_leaves_out_only_the_nightly_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    assert collected(False, monkeypatch) == (["quick", "e2e"], ["long"])
    assert collected(True, monkeypatch) == (["quick", "long", "e2e"], [])


def test_the_long_fuzz_runs_are_the_nightly_ones() -> None:
    marks = {param.id: {mark.name for mark in param.marks} for param in BUDGETS}

    assert "nightly" in marks["long"]
    assert "nightly" not in marks["quick"]


def test_the_nightly_profile_draws_more_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profiles, "NIGHTLY", False)
    default = (profiles.examples(10, 100), profiles.share(1_000))
    monkeypatch.setattr(profiles, "NIGHTLY", True)
    nightly = (profiles.examples(10, 100), profiles.share(1_000))

    assert default == (10, 250)
    assert nightly == (100, 1_000)
