"""Downloads of a version's weights that a client never reads hold a chunk each, not the
file, nor a database connection: the route names the blob from the database, closes its
session, checks the blob (a pass of a chunk at a time) and streams it. Before, it read the
blob into bytes and answered them in one Response: 64 unread downloads of a 55 MB model grew
the server from 0.7 to 4.2 GB."""

from __future__ import annotations

import socket
import time

import pytest

from service.config import Settings
from service.registry.service import weights_blob
from tests.live import LiveServer
from tests.registry.builders import make_model

pytestmark = pytest.mark.any_database  # the server's memory and parsing, not its database

STALLED = 16
URL = "/v1/models/big/versions/1/artifact"


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.slow
def test_unread_downloads_of_a_large_model_do_not_hold_its_bytes(settings: Settings) -> None:
    model, config = make_model(kind="linear", n_features=32768, code_size=110)  # 29 MB
    blob = weights_blob(model.state_dict(), config, {})
    server = LiveServer(settings, workers=0).start()
    assert server.process is not None
    with server.client() as http:
        files = {"file": ("m.safetensors", blob, "application/octet-stream")}
        created = http.post("/v1/models/big/versions", files=files)
        assert created.status_code == 201, created.text
        assert http.get(URL).status_code == 200  # what one download costs is paid once
    before = rss_bytes(server.process.pid)
    sockets = []
    try:
        for _ in range(STALLED):
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(f"GET {URL} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            sockets.append(sock)
        heads = [s.recv(12) for s in sockets]
        assert all(h == b"HTTP/1.1 200" for h in heads), str(heads)  # every one answering
        time.sleep(1.0)
        grown = rss_bytes(server.process.pid) - before
        with server.client(timeout=5) as http:  # the database pool is not theirs
            assert http.get("/v1/models/big/versions/1").status_code == 200
    finally:
        for sock in sockets:
            sock.close()
    # 16 x 29 MB is 460 MB held; a streamed download holds a buffer each
    assert grown < 100 << 20, f"{STALLED} unread downloads grew the server {grown >> 20} MB"
