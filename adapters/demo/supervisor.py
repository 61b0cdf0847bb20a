"""Child processes of `oms demo`: started with the same settings, stopped cleanly, never left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from adapters.kafka.broker import child_setup


@dataclass
class Child:
    name: str
    args: list[str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Supervisor:
    env: dict[str, str]
    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, *oms_args: str) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        child = Child(name, [sys.executable, "-m", "adapters.cli.main", *oms_args])
        with open(self.log_dir / f"{name}.log", "ab") as log:
            child.process = subprocess.Popen(
                child.args,
                env={**os.environ, **self.env},
                cwd=self.log_dir.parent,  # faust keeps its table folder in the working directory
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=child_setup(),
            )
        self.children.append(child)
        return child

    def is_running(self, name: str) -> bool:
        return any(child.alive for child in self.children if child.name == name)

    def unexpected_stops(self) -> list[str]:
        """One line per child that exited by itself: its exit code, the last line it logged, where its log is."""
        return [self._account(child) for child in self.children if child.process is not None and not child.alive]

    def _account(self, child: Child) -> str:
        assert child.process is not None
        log = self.log_dir / f"{child.name}.log"
        return f"{child.name} stopped unexpectedly (exit {child.process.returncode}): {last_line(log)} (see {log})"

    def stop_all(self, timeout: float = 15.0) -> None:
        for child in reversed(self.children):
            if child.alive:
                assert child.process is not None
                child.process.send_signal(signal.SIGTERM)
        for child in reversed(self.children):
            if child.process is None:
                continue
            try:
                child.process.wait(timeout)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        self.children.clear()


def last_line(path: Path) -> str:
    """The last line a child logged: for a crash, its exception; for a refusal, its reason."""
    try:
        with open(path, "rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - 4096))
            lines = [line.strip() for line in log.read().decode(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1] if lines else "nothing logged"
