"""Issue 16, item 2: `oms demo` (and `oms api`) with the API port taken says so in one line and exits 2 before it
starts anything (the demo used to print the dashboard URL, lose its API, and exit 0)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import app


def test_a_taken_api_port_is_one_line_and_exit_2_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("OMS_DATA_DIR", str(data))
    monkeypatch.delenv("OMS_KAFKA_BOOTSTRAP", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("OMS_API_PORT", str(port))

        result = CliRunner().invoke(app, ["demo", "--seconds", "1"])

    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert f"127.0.0.1:{port} (address already in use)" in line
    assert "set OMS_API_PORT to a free port" in line
    assert not data.exists(), "the demo started before refusing"


def test_oms_api_on_a_taken_port_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMS_KAFKA_BOOTSTRAP", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = CliRunner().invoke(app, ["api", "--port", str(port)])

    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert f"cannot listen on 127.0.0.1:{port} (address already in use)" in line
