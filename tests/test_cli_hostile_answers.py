"""What answers at the CLI's URL cannot take `aesvc` down: an endless body is refused at
MAX_ANSWER_BYTES (before, `aesvc models` grew by 5 GB in 16 s and went on), a body trickled a
byte at a time at ANSWER_DEADLINE_S (httpx's read timeout restarts on every byte), a
compressed one at once. The server is a real socket on 127.0.0.1 that answers as told."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from service import cli_transport
from service.cli_client import http_client
from service.cli_transport import AnswerRefused

pytestmark = pytest.mark.any_database  # no database: a CLI process and a socket
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
CHUNKED = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"


def _endless(conn: socket.socket, stop: threading.Event) -> None:
    chunk = b"[" * (1 << 20)
    conn.sendall(CHUNKED)
    while not stop.is_set():
        conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))


def _trickle(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(CHUNKED)
    while not stop.wait(0.2):  # a byte every 0.2 s, well inside any read timeout
        conn.sendall(b"1\r\n \r\n")


def _gzip(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(HEAD + b"Content-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}")


@contextlib.contextmanager
def hostile_server(answer: Callable[[socket.socket, threading.Event], None]) -> Iterator[int]:
    """A port whose connections get `answer` once their request head is in; it stops (and
    closes them) after 30 s, so a CLI that keeps reading fails instead of hanging."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.recv(65536)
            answer(conn, stop)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                threading.Thread(target=serve, args=(listener.accept()[0],), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    threading.Timer(30.0, stop.set).start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()


def _two_gib_of_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # far more than the CLI needs


@pytest.mark.slow  # a CLI process
def test_an_endless_answer_is_refused_at_the_cap() -> None:
    with hostile_server(_endless) as port:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "service.cli", "models"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "AESVC_URL": f"http://127.0.0.1:{port}", "COLUMNS": "200"},
            preexec_fn=_two_gib_of_address_space,
        )
    took = time.monotonic() - started
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:], took)
    assert "GET /v1/models: the answer runs past 268435456 bytes" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_an_answer_trickled_forever_is_cut_off_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli_transport, "ANSWER_DEADLINE_S", 2.0)
    with hostile_server(_trickle) as port, http_client(f"http://127.0.0.1:{port}", None) as client:
        started = time.monotonic()
        with pytest.raises(AnswerRefused, match="not whole after 2 s"):
            client.get("/v1/jobs")
        assert time.monotonic() - started < 10


def test_a_compressed_answer_is_refused() -> None:
    with (
        hostile_server(_gzip) as port,
        http_client(f"http://127.0.0.1:{port}", None) as client,
        pytest.raises(AnswerRefused, match="'gzip'-encoded"),
    ):
        client.get("/v1/models")
