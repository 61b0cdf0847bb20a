"""One running system (worker, projections, API) for the e2e modules that need one: starting a stack costs
more than all the API and dashboard tests on it, and each test makes its own orders and skus (unique tags).
Package-scoped, so it is stopped before the integration tests run; under `./dev test`'s processes, each process
that runs these modules starts one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.system import System, start_system


@pytest.fixture(scope="package")
def system(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with start_system(kafka_bootstrap, tmp_path_factory.mktemp("system")) as running:
        yield running
