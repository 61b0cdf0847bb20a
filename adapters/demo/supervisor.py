"""Child processes of `oms demo`: started with the same settings, stopped cleanly, never left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from adapters.broker import child_setup


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
