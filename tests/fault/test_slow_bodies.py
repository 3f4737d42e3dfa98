"""Slow request bodies cannot hold the service: a body trickled after a fast head is cut
off (408) at AESVC_BODY_TIMEOUT_S plus its earned time, connections stuck in slow bodies
give way to newcomers at AESVC_MAX_CONNECTIONS (the slowest body closed first), while a
body sent at a fair rate for longer than the timeout is served; and a request head is
counted as it arrives, so the read that completes it cannot carry it past
AESVC_MAX_HEADER_BYTES. A real `aesvc serve` on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.factories import module_settings
from tests.live import LiveServer, module_server

pytestmark = pytest.mark.slow

MAX_CONNECTIONS = 8
BODY_TIMEOUT_S = 3.0
MIN_RATE = 16 << 10
ENV = {
    "AESVC_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    "AESVC_HEADER_TIMEOUT_S": "2",
    "AESVC_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
    "AESVC_BODY_MIN_BYTES_PER_S": str(MIN_RATE),
    "AESVC_BUILTIN_DATASETS": "false",
}


def slow_head(length: int) -> bytes:
    return (
        b"POST /v1/models/m/versions/1/encode HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("slow_bodies") / "var"
    with (
        module_settings(data_dir) as settings,
        module_server(settings, workers=0, env=ENV) as server,
    ):
        yield server


def trickle(socks: list[socket.socket], stop: threading.Event) -> None:
    while not stop.is_set():
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.send(b" ")
        stop.wait(0.3)


@contextlib.contextmanager
def trickling(socks: list[socket.socket]) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=trickle, args=(socks, stop), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        for sock in socks:
            sock.close()


def test_a_body_trickled_after_a_fast_head_is_cut_off_with_a_408(live: LiveServer) -> None:
    sock = socket.create_connection(("127.0.0.1", live.port), timeout=10)
    sock.sendall(slow_head(100_000) + b"{")
    with trickling([sock]):
        sock.settimeout(2 * BODY_TIMEOUT_S + 2)
        answer = sock.recv(4096)  # the 408, then the close
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]


def test_slow_bodies_at_the_connection_cap_give_way_to_newcomers(live: LiveServer) -> None:
    socks = []
    for _ in range(MAX_CONNECTIONS):
        sock = socket.create_connection(("127.0.0.1", live.port), timeout=5)
        sock.sendall(slow_head(100_000) + b"{")
        socks.append(sock)
    failures = []
    with trickling(socks):
        time.sleep(1.3)  # under the minimum rate for over a second; not yet timed out
        for _ in range(4):
            try:
                with httpx.Client(base_url=live.base_url, timeout=2) as client:
                    status = client.get("/healthz", headers={"Connection": "close"}).status_code
                    if status != 200:
                        failures.append(status)
            except httpx.HTTPError as exc:
                failures.append(repr(exc))
            time.sleep(0.2)
    assert not failures, f"{MAX_CONNECTIONS} slow-body connections lock /healthz out: {failures}"


def test_a_body_sent_at_a_fair_rate_for_longer_than_the_timeout_is_served(
    live: LiveServer,
) -> None:
    body = b'{"inputs": [[' + b" " * (4 * MIN_RATE) + b"1]]}"
    with socket.create_connection(("127.0.0.1", live.port), timeout=15) as sock:
        sock.sendall(slow_head(len(body)))
        pieces = 10  # over about 1.5 x BODY_TIMEOUT_S, at about 2.7 x the minimum rate
        size = -(-len(body) // pieces)
        for i in range(0, len(body), size):
            sock.sendall(body[i : i + size])
            time.sleep(1.5 * BODY_TIMEOUT_S / pieces)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 404"), answer[:80]  # served: no model "m"


@pytest.mark.parametrize("last_bytes", [10_000, 60_000])
def test_a_head_whose_last_read_carries_it_past_the_limit_is_431(
    live: LiveServer, last_bytes: int
) -> None:
    """60,000 bytes of head (under the 64 KiB limit), a pause (the server reads them), then
    `last_bytes` more that end the head."""
    start = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: " + b"a" * 60_000 + b"\r\n"
    last = b"X-B: " + b"b" * last_bytes + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
        sock.sendall(start)
        time.sleep(0.3)
        sock.sendall(last)
        data = b""
        with contextlib.suppress(OSError):
            data = sock.recv(100)
    assert data.startswith(b"HTTP/1.1 431"), data[:40]


def test_a_head_sent_a_byte_at_a_time_is_served(live: LiveServer) -> None:
    """The head's end straddles reads: counted once, the request served."""
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(head)):
            sock.sendall(head[i : i + 1])
            time.sleep(0.002)
        answer = sock.recv(100)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:40]


def test_blank_lines_before_a_huge_head_do_not_hide_its_size(live: LiveServer) -> None:
    """The parser skips blank lines before a request line: their CRLFs are not its end."""
    head = b"\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: " + b"a" * 70_000
    with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
        sock.sendall(head + b"\r\n\r\n")
        data = b""
        with contextlib.suppress(OSError):
            data = sock.recv(100)
    assert data.startswith(b"HTTP/1.1 431"), data[:40]


def test_a_head_whose_end_spans_three_reads_then_a_large_body_is_served(
    live: LiveServer,
) -> None:
    """The end of the head split as "\\r\\n" | "\\r" | "\\n" + 70 KB of body: the body is
    not counted as head."""
    body = b'{"inputs": [[' + b" " * 70_000 + b"1]]}"
    head = slow_head(len(body))[:-2]  # up to the last header line's CRLF
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for part in (head, b"\r", b"\n" + body):
            sock.sendall(part)
            time.sleep(0.2)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 404"), answer[:80]  # served: no model "m"
