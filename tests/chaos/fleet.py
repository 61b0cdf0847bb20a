"""The processes under test: `oms worker`s and one `oms project`, as child processes that can be SIGKILLed and
started again on the same data folder. Each child's output goes to `<name>.log` in the run's folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from adapters.kafka.broker import child_setup


@dataclass
class Child:
    """One `python -m adapters.cli.main ...` with exactly the environment given (no OMS_* of the caller leaks in)."""

    name: str
    args: tuple[str, ...]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def exit_code(self) -> int | None:
        """None while it runs (or was never started)."""
        return self.process.poll() if self.process is not None else None

    def start(self) -> Child:
        self.cwd.mkdir(parents=True, exist_ok=True)
        environment = {name: value for name, value in os.environ.items() if not name.startswith("OMS_")}
        with open(self.log_path, "ab") as log:
            log.write(f"\n--- start {self.starts + 1} at {time.strftime('%H:%M:%S')} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "adapters.cli.main", *self.args],
                env={**environment, **self.env},
                cwd=self.cwd,  # a worker's faust keeps its table folder in the working directory
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=child_setup(),  # never outlives the run, even when the run itself is killed
            )
        self.starts += 1
        return self

    def kill(self) -> int:
        """SIGKILL: no shutdown, no last commit, no flush. Returns the pid it killed."""
        assert self.process is not None, f"{self.name} is not running"
        pid = self.process.pid
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        return pid

    def stop(self, timeout_s: float = 20.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


@dataclass(frozen=True)
class Kill:
    at_s: float  # seconds after the load started
    victim: str
    pid: int


@dataclass
class Fleet:
    """`workers` workers (each its own data folder, as on separate machines) and the projector (views in
    `<root>/oms.sqlite3`, archive in `<root>/history.sqlite3`)."""

    bootstrap: str
    prefix: str
    root: Path
    partitions: int
    payment_timeout_s: float
    workers: int = 2
    children: dict[str, Child] = field(default_factory=dict)
    kills: list[Kill] = field(default_factory=list)
    unexpected_exits: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for index in range(self.workers):
            name = f"worker-{index + 1}"
            self.children[name] = self._child(name, ("worker", "--loglevel", "warn"), self.root / name)
        self.children["projector"] = self._child("projector", ("project",), self.root)

    @property
    def worker_names(self) -> list[str]:
        return [name for name in self.children if name.startswith("worker")]

    def _child(self, name: str, args: tuple[str, ...], data_dir: Path) -> Child:
        env = {
            "OMS_KAFKA_BOOTSTRAP": self.bootstrap,
            "OMS_TOPIC_PREFIX": self.prefix,
            "OMS_DATA_DIR": str(data_dir),
            "OMS_PARTITIONS": str(self.partitions),
            "OMS_PAYMENT_TIMEOUT_S": str(self.payment_timeout_s),
        }
        return Child(name, args, env, data_dir, self.root / f"{name}.log")

    def start(self) -> None:
        for child in self.children.values():
            child.start()

    def kill_and_restart(self, victim: str, at_s: float) -> Kill:
        self.notice_exits()
        child = self.children[victim]
        kill = Kill(at_s, victim, child.kill())
        self.kills.append(kill)
        child.start()
        return kill

    def notice_exits(self) -> None:
        """A child that ended without being killed is a finding; it is started again so the run goes on."""
        for name, child in self.children.items():
            code = child.exit_code()
            if code is not None:
                self.unexpected_exits.append(f"{name} (pid {child.pid}) exited by itself with code {code}")
                child.start()

    def stop(self) -> None:
        for child in self.children.values():
            child.stop()

    def dump_stacks(self) -> None:
        """Ask each running worker for its threads' and tasks' stacks (mode's SIGUSR1 handler logs them)."""
        for name in self.worker_names:
            process = self.children[name].process
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGUSR1)

    def stuck_in_rebalance(self) -> list[str]:
        """The last `wait_empty` complaint of each worker that has one: faust waiting for messages never acked."""
        found = []
        for name in self.worker_names:
            complaints = [line for line in self.children[name].log_tail(200_000).splitlines() if "wait_empty" in line]
            if complaints:
                found.append(f"{name} ({len(complaints)} times): {complaints[-1][:400]}")
        return found

    def pids(self) -> dict[str, int | None]:
        return {name: child.pid for name, child in self.children.items()}
