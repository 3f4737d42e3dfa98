"""`aesvc batch encode --follow` whose event stream breaks off mid-body (a proxy, a network
blip) while the job runs on: the CLI resumes the stream after the last event it saw and
exits 0 once the job succeeds (it exited 1, "cannot reach the service")."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.datasets import chunks
from tests.batch.conftest import MODEL, upload
from tests.factories import random_matrix
from tests.live import LiveServer, free_port

pytestmark = pytest.mark.slow  # a real server, followed by the CLI


class CutOnceProxy:
    """Forwards 127.0.0.1:port to the server; the first response to a /events request is
    cut (both sockets closed) after `after_bytes` of it, as a dropped connection is."""

    def __init__(self, upstream_port: int, after_bytes: int = 600) -> None:
        self.upstream_port, self.after_bytes = upstream_port, after_bytes
        self.port = free_port()
        self.cut = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        state = {"events": False, "sent": 0}

        def requests() -> None:
            try:
                while data := client.recv(65536):
                    if b"/events" in data and not self.cut.is_set():
                        state["events"] = True
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=requests, daemon=True).start()
        try:
            while data := upstream.recv(65536):
                client.sendall(data)
                if state["events"] and not self.cut.is_set():
                    state["sent"] += len(data)
                    if state["sent"] >= self.after_bytes:
                        self.cut.set()
                        break
        except OSError:
            pass
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self.listener.close()


def test_follow_resumes_after_the_event_stream_breaks_off(
    client: TestClient, settings: Settings, world: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1,200 chunks, each recorded on its own: a job of a few seconds, a progress event a chunk
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 500 * 6 * 4)
    upload(client, "big", random_matrix(600_000, 6, seed=1))
    server = LiveServer(settings, workers=1, env={"AESVC_BATCH_RECORD_EVERY_S": "0"}).start()
    proxy = CutOnceProxy(server.port)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "service.cli", "batch", "encode", "--model", f"{MODEL}@1",
             "--dataset", "big", "--output", "codes", "--follow", "--url", proxy.url],
            capture_output=True, text=True, timeout=180, env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
    finally:
        proxy.close()
    assert proxy.cut.is_set(), "the proxy never cut an event stream"
    with server.client() as http:
        jobs = http.get("/v1/batch-jobs").json()["data"]
    assert len(jobs) == 1 and jobs[0]["status"] in ("running", "succeeded"), jobs
    assert run.returncode == 0, run.stdout + run.stderr
    assert "succeeded" in run.stdout and "600000 rows written to dataset codes" in run.stdout
