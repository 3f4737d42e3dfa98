"""A real S3 API for the tests: moto's standalone server on 127.0.0.1, and a TCP relay in
front of it that a test can cut (the store unreachable) and restore."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.live import free_port

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "aesvc-test",
    "AWS_SECRET_ACCESS_KEY": "aesvc-test-secret",
    "AWS_REGION": "us-east-1",
}


class S3Server:
    """moto's server in a process of its own; state lives in that process's memory."""

    def __init__(self, log_path: Path, *, check_credentials: bool = False) -> None:
        """check_credentials: moto checks every request's keys against its own IAM users
        (there are none), so any key is refused, as a real S3 refuses a wrong one."""
        self.check_credentials = check_credentials
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> S3Server:
        log = self.log_path.open("ab")
        env = {**os.environ}
        if self.check_credentials:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited: {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{self.endpoint}/moto-api/", timeout=1)
                return self
            time.sleep(0.1)
        raise TimeoutError("moto server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def create_bucket(self, name: str | None = None) -> str:
        name = name or f"aesvc-{uuid.uuid4().hex[:12]}"
        response = httpx.put(f"{self.endpoint}/{name}", timeout=10)
        response.raise_for_status()
        return name

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint or self.endpoint}


class Relay:
    """A TCP relay to `target_port`. `cut()` drops every open connection and refuses new
    ones (the store unreachable); `stall()` drops them and accepts new ones that it never
    answers (a hung server, a black-holed balancer); `restore()` relays again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._cut = False
        self._stalled = False
        self._held: list[socket.socket] = []  # accepted while stalled, never answered
        self.bytes_up = 0  # relayed towards the server: how far an upload got
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
            self._open.clear()

    def stall(self) -> None:
        self.cut()
        with self._lock:
            self._cut, self._stalled = False, True

    def restore(self) -> None:
        with self._lock:
            self._cut = self._stalled = False
            for sock in self._held:
                sock.close()
            self._held.clear()

    def close(self) -> None:
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._cut:
                    client.close()
                    continue
                if self._stalled:
                    self._held.append(client)
                    continue
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.target_port))
                except OSError:
                    client.close()
                    continue
                self._open.update((client, upstream))
            for a, b, up in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(a, b, up), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, up: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(1 << 16):
                sink.sendall(data)
                if up:
                    self.bytes_up += len(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def relayed(port: int) -> Iterator[Relay]:
    """A relay to a server on 127.0.0.1:`port` (moto, Azurite, ...)."""
    relay = Relay(port)
    try:
        yield relay
    finally:
        relay.close()
