"""The README's first command: `oms demo` brings the system up, the API answers, Ctrl-C leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from adapters.kafka.broker import free_port

pytestmark = pytest.mark.slow


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            child = int(entry.name)
            found |= {child, *descendants(child)}
    return found


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def assert_the_dashboard_answers(url: str, key: str) -> None:
    """The URL the demo prints: it asks for the ops key, and with it shows the board of orders."""
    with httpx.Client(follow_redirects=True) as browser:
        assert "/dashboard/login" in str(browser.get(url).url)
        board = browser.post(f"{url}/login", data={"key": key, "next": "/dashboard"})
        assert board.status_code == 200 and str(board.url) == url, board.text[:500]
        assert "Latest orders" in board.text


def test_demo_serves_the_api_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "OMS_DATA_DIR": str(tmp_path), "OMS_API_PORT": str(port), "OMS_API_KEYS": "demo-key"}
    env.pop("OMS_KAFKA_BOOTSTRAP", None)
    demo = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli.main", "demo", "--rate", "5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    children: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        orders: list[object] = []
        while time.monotonic() < deadline:
            children |= descendants(demo.pid)
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/api/v1/orders", headers={"Authorization": "Bearer demo-key"}
                )
                orders = answer.json().get("items", []) if answer.status_code == 200 else []
            except httpx.HTTPError:
                orders = []
            if orders:
                break
            assert demo.poll() is None, demo.stdout.read().decode() if demo.stdout else ""
            time.sleep(1)
        assert orders, "no demo order was projected and served by the API within 60 s"
        assert len(children) >= 4  # broker, worker, projector, api
        assert_the_dashboard_answers(f"http://127.0.0.1:{port}/dashboard", "demo-key")
    finally:
        demo.send_signal(signal.SIGINT)
        output = demo.communicate(timeout=60)[0].decode()
    assert demo.returncode == 0, output
    assert "nothing left running" in output
    time.sleep(0.5)
    assert not [pid for pid in children if is_running(pid)], "a process outlived the demo"
