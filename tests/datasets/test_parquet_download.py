"""A Parquet download is written as it is sent, against a real `aesvc serve`: it holds no
copy of the dataset on disk. It was spooled whole to <data_dir>/tmp first, and the file (its
name removed, its descriptor open) stayed as long as the client read: six 70-byte requests
that read nothing held 830 MB of a 100 MB dataset's copies for the send timeout, and a
client reading 50 KB/s held its copy for as long as it cared to, any number of them at once
(a full disk fails the database too)."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.factories import module_settings
from tests.live import LiveServer, module_server

pytestmark = pytest.mark.slow

ROWS, FEATURES = 40_000, 64  # 10 MB: three chunks
DOWNLOADS = 4
REQUEST = b"GET /v1/datasets/wide/data?format=parquet HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, np.ndarray]]:
    data_dir = tmp_path_factory.mktemp("parquet") / "var"
    rows = np.random.default_rng(0).normal(size=(ROWS, FEATURES)).astype(np.float32)
    buffer = io.BytesIO()
    np.save(buffer, rows)
    with module_settings(data_dir) as settings, module_server(settings, workers=0) as live:
        with live.client() as client:
            r = client.post(
                "/v1/datasets",
                files={"file": ("wide.npy", buffer.getvalue())},
                data={"name": "wide"},
            )
            assert r.status_code == 201, r.text
        yield live, rows


def _spooled(pid: int, data_dir: Path) -> list[str]:
    """The files under data_dir that the process holds open with their names removed."""
    held = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(FileNotFoundError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith(str(data_dir)) and target.endswith("(deleted)"):
                held.append(target)
    return held


def test_downloads_nobody_reads_hold_no_copy_of_the_dataset(
    server: tuple[LiveServer, np.ndarray],
) -> None:
    live, _ = server
    assert live.process is not None
    readers = []
    try:
        for _ in range(DOWNLOADS):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
            sock.connect(("127.0.0.1", live.port))
            sock.sendall(REQUEST)
            readers.append(sock)
        for sock in readers:  # each answer has begun: its file, if any, is written
            sock.settimeout(30)
            assert sock.recv(12) == b"HTTP/1.1 200"
        time.sleep(0.5)
        data_dir = Path(live.env["AESVC_DATA_DIR"])
        assert _spooled(live.process.pid, data_dir) == []
    finally:
        for sock in readers:
            sock.close()


def test_a_parquet_download_is_the_dataset(server: tuple[LiveServer, np.ndarray]) -> None:
    live, rows = server
    with live.client() as client:
        r = client.get("/v1/datasets/wide/data", params={"format": "parquet"})
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(r.content))
    assert table.column_names == [f"x{j}" for j in range(FEATURES)]
    assert pq.ParquetFile(io.BytesIO(r.content)).num_row_groups == 3  # a row group a chunk
    np.testing.assert_array_equal(np.column_stack([c.to_numpy() for c in table.columns]), rows)


def test_a_missing_dataset_is_a_404_before_any_parquet(
    server: tuple[LiveServer, np.ndarray],
) -> None:
    live, _ = server
    r = httpx.get(f"{live.base_url}/v1/datasets/nope/data", params={"format": "parquet"})
    assert r.status_code == 404
