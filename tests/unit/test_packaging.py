"""Issue 16, item 6: the Docker image installs what CI tests (constraints.txt), from a build context that a
`.dockerignore` keeps to the package (docs/docker-compose.md says so)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def copied_sources() -> list[str]:
    sources = []
    for line in dockerfile().splitlines():
        if line.startswith("COPY "):
            sources += line.split()[1:-1]
    return sources


def ignored(path: str) -> bool:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [pattern.removeprefix("**/") for pattern in patterns if pattern and not pattern.startswith("#")]
    return any(fnmatch.fnmatch(path, pattern.rstrip("/")) for pattern in patterns)


def test_the_image_installs_with_the_constraints_ci_tests_with() -> None:
    [install] = re.findall(r"pip install [^\\&\n]*", dockerfile())

    assert "-c constraints.txt" in install
    assert "constraints.txt" in copied_sources()


def test_a_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    assert (ROOT / ".dockerignore").is_file()
    for local in (".venv", "oms-data", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache", "__pycache__"):
        assert ignored(local), f"{local} reaches the build context"


def test_everything_the_dockerfile_copies_is_in_the_build_context() -> None:
    license_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license-files"]

    for source in copied_sources():
        assert (ROOT / source).exists(), source
        assert not ignored(source), f"{source} is copied but .dockerignore leaves it out"
    assert set(license_files) <= set(copied_sources()), "pip install . needs the license files"
