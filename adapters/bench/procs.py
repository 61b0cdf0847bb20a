"""Child processes of the bench, and what they cost: RSS and CPU time read from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from adapters.kafka.broker import child_setup

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def rss_kb(pid: int) -> int:
    """Resident set size of `pid` in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> Child:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.args,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=child_setup(),  # never outlives the bench, even on SIGKILL
            )
        return self

    def stop(self, timeout: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


def oms_child(name: str, oms_args: list[str], env: dict[str, str], cwd: Path) -> Child:
    """`python -m adapters.cli.main ...` with the bench's environment."""
    return Child(name, [sys.executable, "-m", "adapters.cli.main", *oms_args], env, cwd, cwd / f"{name}.log")


def module_child(name: str, module: str, args: list[str], env: dict[str, str], cwd: Path) -> Child:
    return Child(name, [sys.executable, "-m", module, *args], env, cwd, cwd / f"{name}.log")


@dataclass
class Usage:
    """Peak RSS (summed over the watched processes) and CPU time per process over a window."""

    pids: dict[str, int]
    peak_rss_kb: int = 0
    peak_rss_by_name_kb: dict[str, int] = field(default_factory=dict)
    _cpu_start: dict[str, float] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)

    def begin(self) -> None:
        self._cpu_start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def sample(self, summed: tuple[str, ...]) -> None:
        by_name = {name: rss_kb(pid) for name, pid in self.pids.items()}
        for name, value in by_name.items():
            self.peak_rss_by_name_kb[name] = max(self.peak_rss_by_name_kb.get(name, 0), value)
        self.peak_rss_kb = max(self.peak_rss_kb, sum(by_name[name] for name in summed if name in by_name))

    def end(self) -> None:
        self.cpu_s = {name: cpu_seconds(pid) - self._cpu_start.get(name, 0.0) for name, pid in self.pids.items()}
