"""How thoroughly the suite runs. The default run (`./dev test`, CI on every push) draws few examples in each
property and fuzz test; the nightly run (`OMS_TEST_PROFILE=nightly ./dev test`, `.ci/nightly`) draws many
and also runs the tests marked `nightly`, which only repeat a default check with more examples. No check is
left out of the default run: only how many examples it draws changes."""

from __future__ import annotations

import os

NIGHTLY = "nightly" in (os.environ.get("OMS_TEST_PROFILE", ""), os.environ.get("HYPOTHESIS_PROFILE", ""))


def examples(default: int, nightly: int) -> int:
    """The examples a property test draws in this run."""
    return nightly if NIGHTLY else default


def share(full: int, default_share: float = 0.25) -> int:
    """Part of a fuzz test's full budget in the default run; all of it in the nightly run."""
    return full if NIGHTLY else max(1, round(full * default_share))
