"""A JSON body of many unknown keys on a route outside the inference fast path (POST
/v1/jobs here; /v1/sweeps, /v1/batch-jobs, PATCH /v1/models/{name} and the alias PUT parse
the same way), against a real `aesvc serve`: /healthz must keep answering meanwhile.

FastAPI parses and validates such a body on the event loop, and each unknown key is one
validation error (pydantic's `errors()`, FastAPI's copy of them, service.errors' passes over
all of them before it keeps the first 100): a 1 MB body of 90,000 keys stalled /healthz for
0.5 s, 5 MB for 3.2 s, 29 MB (2.5 million keys, under the 64 MiB body limit) for more than
10 s, with 2.5 GB more RSS, when these routes took bodies of 64 MiB. The fast path's rows
go to a process pool past 1 MB (service.json_bodies); these routes take 256 KiB
(AESVC_MAX_CONTROL_BODY_BYTES)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.factories import module_settings
from tests.live import LiveServer, module_server

pytestmark = [pytest.mark.slow, pytest.mark.alone]

KEYS = 800_000  # about 9 MB
HEALTHZ_WITHIN_S = 1.0


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("keys") / "var"
    with module_settings(data_dir) as settings, module_server(settings, workers=0) as server:
        yield server


def _healthz_s(port: int) -> float:
    """Seconds /healthz took on a new connection (5 at most: then 5)."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5.0) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            if not sock.recv(64).startswith(b"HTTP/1.1 200"):
                return 5.0
    except OSError:
        return 5.0
    return time.monotonic() - started


@pytest.mark.parametrize(
    ("keys", "status"),
    [(KEYS, 413), (20_000, 422)],  # 9 MB: past the control limit; 200 KB: within it
)
def test_a_body_of_many_unknown_keys_does_not_stall_healthz(
    live: LiveServer, keys: int, status: int
) -> None:
    """Past AESVC_MAX_CONTROL_BODY_BYTES (256 KiB) the body is refused as it arrives; within
    it, its parse and 20,000 errors stay short."""
    body = b"{" + b",".join(b'"k%d":1' % i for i in range(keys)) + b"}"
    answered: list[int] = []

    def send() -> None:
        r = httpx.post(
            f"{live.base_url}/v1/jobs",
            content=body,
            headers={"Content-Type": "application/json"},
            timeout=300,
        )
        answered.append(r.status_code)

    sender = threading.Thread(target=send)
    sender.start()
    worst = 0.0
    while True:  # one probe at least, however soon the answer comes
        worst = max(worst, _healthz_s(live.port))
        if not sender.is_alive():
            break
        time.sleep(0.05)
    sender.join()
    assert answered == [status], answered
    assert worst < HEALTHZ_WITHIN_S, f"/healthz took {worst:.2f} s"
