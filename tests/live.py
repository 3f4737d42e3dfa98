"""A real `aesvc serve` process on a free loopback port, started and stopped by tests."""

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

from service.config import Settings

LIVE_SERVERS: list[LiveServer] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(
        self,
        settings: Settings,
        *,
        workers: int = 1,
        log_path: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or settings.data_dir.parent / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "AESVC_DATA_DIR": str(settings.data_dir),
            "AESVC_DATABASE_URL": settings.resolved_database_url,
            "AESVC_HOST": "127.0.0.1",
            "AESVC_PORT": str(self.port),
            "AESVC_WORKERS": str(workers),
            "AESVC_HEARTBEAT_INTERVAL_S": str(settings.heartbeat_interval_s),
            "AESVC_LEASE_TIMEOUT_S": str(settings.lease_timeout_s),
            "AESVC_POLL_INTERVAL_S": str(settings.poll_interval_s),
            "AESVC_ARTIFACT_CACHE_BYTES": str(settings.artifact_cache_bytes),
            **({"AESVC_ARTIFACT_URL": settings.artifact_url} if settings.artifact_url else {}),
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.groups: list[int] = []
        LIVE_SERVERS.append(self)

    def start(self, timeout_s: float = 60.0, *, ready_path: str = "/readyz") -> LiveServer:
        """Start and wait until ready_path answers 200 (/healthz: up, though maybe unready)."""
        settings_dir = Path(self.env["AESVC_DATA_DIR"])
        settings_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        # Its own process group, so that cleanup() also reaps worker processes it left.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve"],
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        self.groups.append(self.process.pid)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.logs()}")
            try:
                if httpx.get(f"{self.base_url}{ready_path}", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.cleanup()
        raise TimeoutError(f"server not ready in {timeout_s} s: {self.logs()}")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 60.0) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)

    def cleanup(self) -> None:
        """SIGKILL every process group this server started (its workers included)."""
        for pgid in self.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        self.groups.clear()

    def logs(self, tail_chars: int | None = 4000) -> str:
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace")
        return text[-tail_chars:] if tail_chars else text

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, **{"timeout": 30, **kwargs})


@contextlib.contextmanager
def running(
    settings: Settings, *, stop_signal: int = signal.SIGKILL, **kwargs: Any
) -> Iterator[LiveServer]:
    """A started LiveServer, stopped with `stop_signal` at exit if the test left it running."""
    live = LiveServer(settings, **kwargs).start()
    try:
        yield live
    finally:
        if live.process is not None and live.process.poll() is None:
            live.stop(stop_signal)


@contextlib.contextmanager
def module_server(settings: Settings, **kwargs: Any) -> Iterator[LiveServer]:
    """A started LiveServer for a module-scoped fixture: off the per-test reaper's list (it
    would stop the server after the first test), stopped and reaped here at the end."""
    live = LiveServer(settings, **kwargs).start()
    LIVE_SERVERS.remove(live)
    try:
        yield live
    finally:
        live.stop()
        live.cleanup()


def assert_start_refused(env: dict[str, str], expected: str) -> None:
    """`aesvc serve` and `aesvc worker` both exit 2 with `expected` in their stderr."""
    for command in ("serve", "worker"):
        result = subprocess.run(
            [sys.executable, "-m", "service.cli", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr[-2000:]
        assert expected in result.stderr, result.stderr[-2000:]
