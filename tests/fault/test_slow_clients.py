"""Issue 22, defect 3: slow clients (slowloris) cannot take the service down.

A real `aesvc serve` on 127.0.0.1 with small limits: many more connections than
AESVC_MAX_CONNECTIONS, each trickling a request head, for a few seconds. /healthz answers
within 1 s throughout, the server's descriptors stay bounded, a slow head is cut off at
AESVC_HEADER_TIMEOUT_S, and an oversized head is a 431.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.factories import module_settings
from tests.live import LiveServer, module_server

pytestmark = [pytest.mark.slow, pytest.mark.alone]

MAX_CONNECTIONS = 40
HEADER_TIMEOUT_S = 2.0
ATTACKERS = 240  # six times the limit
ATTACK_S = 3.0
ENV = {
    "AESVC_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    "AESVC_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
    "AESVC_BUILTIN_DATASETS": "false",
}


def _descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _slowloris(port: int, stop: threading.Event, opened: list[socket.socket]) -> None:
    """Open ATTACKERS connections over the first second, each sending an unfinished
    request head, then one more header byte on each every 0.1 s until told to stop."""
    start = time.monotonic()
    while not stop.is_set() and time.monotonic() - start < ATTACK_S + 5:
        for _ in range(min(ATTACKERS // 10, ATTACKERS - len(opened))):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-slow: ")
                sock.setblocking(False)
            except OSError:
                continue
            opened.append(sock)
        time.sleep(0.1)
        for sock in opened:
            with contextlib.suppress(OSError):  # closed by the server: that is the point
                sock.send(b"a")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the module (a start costs seconds); a fresh database for it."""
    data_dir = tmp_path_factory.mktemp("slow") / "var"
    with (
        module_settings(data_dir) as settings,
        module_server(settings, workers=0, env=ENV) as server,
    ):
        yield server


@pytest.mark.slow  # many trickling connections held for seconds (fault)
def test_healthz_answers_within_a_second_under_a_slowloris(live: LiveServer) -> None:
    assert live.process is not None
    pid = live.process.pid
    baseline = _descriptors(pid)
    stop = threading.Event()
    opened: list[socket.socket] = []
    attack = threading.Thread(target=_slowloris, args=(live.port, stop, opened), daemon=True)
    attack.start()
    latencies, peak = [], 0
    try:
        deadline = time.monotonic() + ATTACK_S
        with httpx.Client(base_url=live.base_url, timeout=1.0) as client:
            while time.monotonic() < deadline:
                started = time.monotonic()
                answer = client.get("/healthz", headers={"Connection": "close"})
                latencies.append(time.monotonic() - started)
                assert answer.status_code == 200
                peak = max(peak, _descriptors(pid))
                time.sleep(0.05)
    finally:
        stop.set()
        attack.join(timeout=10)
        for sock in opened:
            sock.close()
    assert len(opened) >= ATTACKERS
    assert len(latencies) > 20 and max(latencies) < 1.0, max(latencies)
    # every connection is a descriptor: bounded by the limit, not by the attacker
    assert peak <= baseline + MAX_CONNECTIONS + 10, (baseline, peak)


def test_a_slow_request_head_is_cut_off_and_a_huge_one_is_431(live: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", live.port), timeout=HEADER_TIMEOUT_S + 3) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        assert sock.recv(100) == b""  # closed by the server, no answer
        assert HEADER_TIMEOUT_S - 0.5 < time.monotonic() - started < HEADER_TIMEOUT_S + 2
    with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-big: " + b"a" * 100_000)
        assert sock.recv(100).startswith(b"HTTP/1.1 431")
    # a large body after the head is no large head
    with httpx.Client(base_url=live.base_url, timeout=10) as client:
        body = {"inputs": [[0.5] * 64] * 2000}  # about 0.5 MB
        assert client.post("/v1/models/none/versions/1/encode", json=body).status_code == 404
