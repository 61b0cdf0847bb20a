"""The whole system as child processes, for end-to-end tests: `oms worker`, `oms project` and `oms api`.

`start_system(bootstrap, data_dir)` is a context manager any e2e module can wrap in its own fixture:

    @pytest.fixture(scope="module")
    def system(kafka_bootstrap, tmp_path_factory):
        with start_system(kafka_bootstrap, tmp_path_factory.mktemp("system")) as running:
            yield running

Each system gets its own topic prefix, data folder (SQLite views, archive, intake store, faust data)
and API port, so several can share the session broker. Every child is stopped on the way out
(SIGTERM, then SIGKILL), also when start-up fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
from aiokafka.admin import AIOKafkaAdminClient

from adapters.kafka.admin import ensure_topics, public_topic_names
from adapters.kafka.broker import child_setup, free_port
from adapters.settings import Settings
from projections.projector import PROJECTIONS

T = TypeVar("T")

API_KEY = "e2e-ops-key"
CHANNEL_SECRETS = {"shopify": "e2e-shopify-secret"}
PARTITIONS = 4


class SystemFailed(RuntimeError):
    """A child process exited or the API never answered; the message carries the logs."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    def is_running(self) -> bool:
        return self.process.poll() is None


@dataclass
class System:
    """A running system: where to reach it and what it logged."""

    bootstrap: str
    prefix: str
    data_dir: Path
    port: int
    api_key: str
    channel_secrets: Mapping[str, str]
    children: dict[str, Child] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ops_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def topic(self, name: str) -> str:
        """The prefixed name of a public topic, e.g. `topic("oms.orders")`."""
        return f"{self.prefix}{name}"

    def log(self, name: str) -> str:
        """What child `name` (worker, project, api) wrote so far."""
        path = self.children[name].log_path
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self, tail: int = 3000) -> str:
        return "\n".join(f"--- {name} ---\n{self.log(name)[-tail:]}" for name in self.children)

    def check_running(self) -> None:
        """Raise `SystemFailed` with the logs when any child has exited."""
        dead = {name: c.process.returncode for name, c in self.children.items() if not c.is_running()}
        if dead:
            raise SystemFailed(f"exited: {dead}\n{self.logs()}")


@contextlib.contextmanager
def start_system(
    bootstrap: str,
    data_dir: Path,
    *,
    prefix: str | None = None,
    api_key: str = API_KEY,
    channel_secrets: Mapping[str, str] = CHANNEL_SECRETS,
    extra_env: Mapping[str, str] | None = None,
    startup_timeout: float = 60.0,
) -> Iterator[System]:
    """Start worker, projections and API against `bootstrap`; yield once `/healthz` answers and every
    consumer group (the processors' and each projection's) has joined, so timings measure the pipeline,
    not its start-up."""
    system = System(
        bootstrap=bootstrap,
        prefix=prefix or f"e2e{uuid.uuid4().hex[:10]}.",
        data_dir=data_dir,
        port=free_port(),
        api_key=api_key,
        channel_secrets=dict(channel_secrets),
    )
    env = child_env(system, extra_env or {})
    run_in_thread(ensure_topics(bootstrap, public_topic_names(system.prefix), PARTITIONS))
    try:
        for name, args in commands(system).items():
            system.children[name] = spawn(name, args, env, data_dir)
        deadline = time.monotonic() + startup_timeout
        wait_until_healthy(system, deadline)
        wait_until_consuming(system, consumer_groups(system.prefix, env), deadline)
        yield system
    finally:
        stop_children(system.children.values())


def child_env(system: System, extra: Mapping[str, str]) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("OMS_")}
    env.update(
        OMS_KAFKA_BOOTSTRAP=system.bootstrap,
        OMS_TOPIC_PREFIX=system.prefix,
        OMS_DATA_DIR=str(system.data_dir),
        OMS_PARTITIONS=str(PARTITIONS),
        OMS_API_KEYS=system.api_key,
        OMS_LOG_LEVEL="WARNING",
    )
    env.update({f"OMS_CHANNEL_SECRET_{channel.upper()}": secret for channel, secret in system.channel_secrets.items()})
    env.update(extra)
    return env


def commands(system: System) -> dict[str, list[str]]:
    bootstrap = ["--bootstrap", system.bootstrap]
    return {
        "worker": ["worker", *bootstrap, "--loglevel", "warn"],
        "project": ["project", *bootstrap],
        "api": ["api", "--port", str(system.port), *bootstrap],
    }


def spawn(name: str, args: list[str], env: Mapping[str, str], data_dir: Path) -> Child:
    """`python -m adapters.cli.main <args>`, run in the data folder (faust writes its data to the cwd)."""
    log_path = data_dir / f"{name}.log"
    log_file = open(log_path, "ab")  # noqa: SIM115 - closed in stop_children
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli.main", *args],
        env=dict(env),
        cwd=data_dir,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        preexec_fn=child_setup(),  # the child dies with us even if teardown never runs
    )
    return Child(name, process, log_path, log_file)


def wait_until_healthy(system: System, deadline: float) -> None:
    with httpx.Client(base_url=system.base_url, timeout=2.0) as http:
        while True:
            system.check_running()
            with contextlib.suppress(httpx.TransportError):
                if http.get("/healthz").status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise SystemFailed(f"/healthz did not answer in time\n{system.logs()}")
            time.sleep(0.2)


def consumer_groups(prefix: str, env: Mapping[str, str]) -> list[str]:
    """The processors' group (the faust app id) and one group per projection."""
    app = env.get("OMS_PIPELINE_APP") or Settings.model_fields["pipeline_app"].default
    return [f"{prefix}{app}", *(f"{prefix}{projection.group}" for projection in PROJECTIONS.values())]


def wait_until_consuming(system: System, groups: list[str], deadline: float) -> None:
    while True:
        system.check_running()
        waiting = run_in_thread(groups_not_stable(system.bootstrap, groups))
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise SystemFailed(f"consumer groups never settled: {waiting}\n{system.logs()}")
        time.sleep(0.3)


async def groups_not_stable(bootstrap: str, groups: list[str]) -> list[str]:
    """The groups that are not yet Stable with a member."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="oms-e2e")
    await admin.start()
    try:
        waiting = []
        for group in groups:  # one at a time: the embedded broker answers a group per request
            [response] = await admin.describe_consumer_groups([group])
            [(_error, _name, state, *_rest, members)] = response.groups
            if state != "Stable" or not members:
                waiting.append(group)
        return waiting
    finally:
        await admin.close()


def stop_children(children: Any, timeout: float = 15.0) -> None:
    """SIGTERM every child at once, wait for each, SIGKILL the ones that are still running."""
    children = list(children)
    for child in children:
        if child.is_running():
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()
        finally:
            child.log_file.close()


def run_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on a loop of its own, in another thread: safe beside pytest-asyncio's loop."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target, name="e2e-async")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]
