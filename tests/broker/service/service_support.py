"""A real `broker serve` for the service tests: a uvicorn process on a free port of
127.0.0.1, over a database of `ledger_support.database` (SQLite file or a fresh
PostgreSQL schema), and keys made with the library."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ledger"))

from ledger_support import BACKENDS, REGISTRY, database, registry, request  # noqa: E402

from broker import Broker  # noqa: E402
from broker.service.auth import KeyStore  # noqa: E402

__all__ = ["BACKENDS", "REGISTRY", "Server", "database", "make_key", "registry", "request",
           "wait_job"]

START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_key(url: str, role: str, **kw: Any) -> str:
    with Broker(url) as b:
        return KeyStore(b.engine).create(role, **kw).key


class Server:
    """`python -m broker serve` in a subprocess; its log goes to `log_path`."""

    def __init__(self, url: str, log_path: Path, *, workers: int = 2,
                 extra: list[str] | None = None):
        self.url, self.log_path, self.workers = url, log_path, workers
        self.extra = extra or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.port = free_port()
        env = dict(os.environ, PYTHONPATH=str(REPO))
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "broker", "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--db", self.url, "--workers", str(self.workers), *self.extra],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"server did not answer within {START_TIMEOUT_S} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """Stop as an operator would (SIGTERM), killing it if it does not go."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=20)

    def client(self, key: str | None = None, **kw: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=120, **kw)


@contextlib.contextmanager
def running(url: str, tmp_path: Path, **kw: Any) -> Iterator[Server]:
    srv = Server(url, tmp_path / f"server-{time.monotonic_ns()}.log", **kw).start()
    try:
        yield srv
    finally:
        srv.stop()


def wait_job(client: httpx.Client, job_id: str, *, until: tuple[str, ...] = (
        "done", "failed", "cancelled", "interrupted"), timeout: float = 120.0
             ) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(f"/v1/jobs/{job_id}")
        assert r.status_code == 200, r.text
        job: dict[str, Any] = r.json()
        if job["status"] in until:
            return job
        time.sleep(0.05)
    pytest.fail(f"job {job_id} not {until} within {timeout} s")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.split(")")[-1].split()[0] != "Z"
    return True
