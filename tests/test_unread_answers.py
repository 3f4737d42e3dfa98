"""Clients that send a cheap request and never read the answer, against a real `aesvc
serve` on 127.0.0.1: at AESVC_MAX_CONNECTIONS the answer stalled longest is closed for a
newcomer (it was neither idle nor a slow body: the newcomer was refused); past
AESVC_SEND_TIMEOUT_S a stalled answer's connection is aborted; and a download nobody
reads holds no database connection (its request's session was held to the last byte); and
full views of a wide dataset nobody reads hold about a chunk each, not a whole answer."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from tests.factories import module_settings, npy_bytes
from tests.live import LiveServer, module_server

pytestmark = [pytest.mark.slow, pytest.mark.alone]

MAX_CONNECTIONS = 40
HEADER_TIMEOUT_S = 2.0
SEND_TIMEOUT_S = 4.0


def _upload(client: httpx.Client, name: str, X: np.ndarray) -> None:
    files = {"file": (f"{name}.npy", npy_bytes(X), "application/octet-stream")}
    created = client.post("/v1/datasets", files=files, data={"name": name})
    assert created.status_code == 201, created.text


def _rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as lines:
        for line in lines:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def _descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _holds(pid: int, sock: socket.socket) -> bool:
    """Whether process `pid` holds the server's end of `sock`'s connection: a descriptor of
    its on the socket whose peer is `sock` (found by port in the kernel's TCP tables).
    Counting all its descriptors would also count those its other threads open and close
    meanwhile (a database connection, a file)."""
    port = sock.getsockname()[1]
    inodes = set()
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}") as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[9] != "0":
                    inodes.add(f"socket:[{fields[9]}]")
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(FileNotFoundError):  # closed since the listing
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
    return False


def _non_reader(port: int, request: bytes) -> socket.socket:
    """A connection that sends `request` and never reads (a small receive window)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect(("127.0.0.1", port))
    sock.sendall(request)
    return sock


def _healthz_s(port: int) -> float | str:
    """Seconds /healthz took on a new connection, or what went wrong (1 s at most)."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = sock.recv(64)
    except OSError as exc:
        return repr(exc)
    if not head.startswith(b"HTTP/1.1 200"):
        return f"answered {head!r}"
    return time.monotonic() - started


@pytest.fixture(scope="module")
def keyless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Auth required, no key used: only the public routes are open to the attacker."""
    env = {
        "AESVC_AUTH": "required",
        "AESVC_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "AESVC_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "AESVC_SEND_TIMEOUT_S": str(SEND_TIMEOUT_S),
        "AESVC_BUILTIN_DATASETS": "false",
    }
    data_dir = tmp_path_factory.mktemp("dos_unread_keyless") / "var"
    with module_settings(data_dir) as settings, module_server(settings, workers=0, env=env) as live:
        yield live


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The defaults (auth off, loopback) and one dataset of 8 MB (two 4 MB chunks)."""
    data_dir = tmp_path_factory.mktemp("dos_unread_local") / "var"
    env = {"AESVC_BUILTIN_DATASETS": "false"}
    with module_settings(data_dir) as settings, module_server(settings, workers=0, env=env) as live:
        with live.client() as client:
            _upload(client, "big", np.random.default_rng(0).random((2000, 1000), dtype=np.float32))
        yield live


def test_keyless_clients_that_never_read_public_answers_do_not_lock_out_healthz(
    keyless: LiveServer,
) -> None:
    """docs/SECURITY.md: anyone who can reach the port, without a key, "cannot exhaust
    connections, descriptors or the event loop with slow or idle connections". Each of
    MAX_CONNECTIONS + 10 connections pipelines requests for the public dashboard script
    (20 KB sent) and reads nothing: /healthz answers 5 s later. Where their answers have
    stalled by then, the one stalled longest is closed for it; on a host that answers them
    faster, they are still being answered into their send buffers (none stalled: every
    probe was closed, 5 runs in 5), and the one with the most pipelined is closed."""
    assert keyless.process is not None
    request = b"GET /ui/static/app.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 400
    socks = [_non_reader(keyless.port, request) for _ in range(MAX_CONNECTIONS + 10)]
    try:
        time.sleep(HEADER_TIMEOUT_S + 3)
        probes = []
        for _ in range(5):
            probes.append(_healthz_s(keyless.port))
            time.sleep(0.5)
        descriptors = _descriptors(keyless.process.pid)
    finally:
        for sock in socks:
            sock.close()
    failed = [p for p in probes if not isinstance(p, float) or p > 1.0]
    assert not failed, f"/healthz under non-reading clients: {probes} ({descriptors} fds)"


def test_downloads_a_client_never_reads_do_not_starve_the_database_pool(local: LiveServer) -> None:
    """32 downloads of a dataset (60 bytes each) whose client reads nothing: every other
    route that needs the database still answers, promptly."""
    socks = [
        _non_reader(local.port, b"GET /v1/datasets/big/data HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for _ in range(32)  # past SQLite's pool (5 + 10) and PostgreSQL's (10 + 20)
    ]
    try:
        time.sleep(1.0)
        started = time.monotonic()
        try:
            with httpx.Client(base_url=local.base_url, timeout=5) as client:
                answer: httpx.Response | str = client.get("/v1/datasets")
        except httpx.HTTPError as exc:
            answer = repr(exc)
        took = time.monotonic() - started
    finally:
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.close()
    assert isinstance(answer, httpx.Response), f"GET /v1/datasets: {answer} after {took:.1f} s"
    assert answer.status_code == 200, (answer.status_code, answer.text[:300], took)
    assert took < 2.0, took


def test_an_answer_nobody_reads_is_dropped_after_the_send_timeout(keyless: LiveServer) -> None:
    assert keyless.process is not None
    pid = keyless.process.pid
    time.sleep(SEND_TIMEOUT_S + 2)  # the attack above is over: its connections gone
    sock = _non_reader(
        keyless.port, b"GET /ui/static/app.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 400
    )
    try:
        time.sleep(1.0)
        assert _holds(pid, sock)  # its answers stalled, the connection held
        deadline = time.monotonic() + SEND_TIMEOUT_S + 3
        while _holds(pid, sock) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _holds(pid, sock), "the stalled connection outlived the send timeout"
    finally:
        sock.close()


def test_full_views_of_a_wide_dataset_nobody_reads_hold_little_and_stall_nothing(
    local: LiveServer,
) -> None:
    """60 GETs of a 50,000-feature dataset's full view (about 4.4 MB of JSON each, 60 bytes
    asked), each on a connection that reads nothing: /healthz on a new connection still
    answers within a second (the bound of the test above), and the server's RSS grows by
    less than a quarter of what the 60 answers would hold whole. Before the full view was
    rendered once and sent in chunks, each unread connection kept its whole answer in its
    transport buffer (264 MB for 60 here), and its request's database session: past the
    pool, the requests waiting for one took every worker thread and /healthz waited for
    the pool's 30 s timeout."""
    assert local.process is not None
    pid = local.process.pid
    with local.client() as client:
        _upload(client, "wide", np.random.default_rng(1).random((2, 50_000), dtype=np.float32))
        size = len(client.get("/v1/datasets/wide").content)  # read once, as a client would
    assert size > 4_000_000
    before = _rss_bytes(pid)
    request = b"GET /v1/datasets/wide HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    socks = [_non_reader(local.port, request) for _ in range(60)]
    try:
        time.sleep(3.0)  # every request answered as far as its client lets it
        probes = []
        for _ in range(5):
            probes.append(_healthz_s(local.port))
            time.sleep(0.3)
        grown = _rss_bytes(pid) - before
    finally:
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.close()
    failed = [p for p in probes if not isinstance(p, float) or p > 1.0]
    assert not failed, f"/healthz under 60 unread full views: {probes}"
    assert grown < 60 * size / 4, f"RSS grew {grown / 1e6:.0f} MB for 60 unread answers"
