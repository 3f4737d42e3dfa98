"""The OIP decoder's answer-size check counts the response body only: an output written into
the client's shared memory region (checked to fit by wanted_outputs) is not refused for the
body limit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from multiprocessing import shared_memory
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.inference.conftest import CODE_SIZE, settings_for

pytestmark = pytest.mark.any_database  # the server's memory and parsing, not its database

ROWS = 10
WIDTH = 64  # digits


@pytest.fixture
def small_limit_app(data_dir: Path) -> Iterator[TestClient]:
    settings = settings_for(data_dir, oip_shared_memory=True, max_body_bytes=2048)
    with TestClient(create_app(settings, start_workers=False)) as client:
        yield client


def test_a_decode_into_shared_memory_is_not_refused_for_the_body_limit(
    small_limit_app: TestClient,
) -> None:
    client = small_limit_app
    out_bytes = ROWS * WIDTH * 4  # 2560: past the 2048-byte body limit, but not in the body
    memory = shared_memory.SharedMemory(
        name=f"aesvc-probe-{uuid.uuid4().hex[:8]}", create=True, size=out_bytes
    )
    try:
        reg = {"key": "/" + memory.name, "offset": 0, "byte_size": out_bytes}
        r = client.post("/v2/systemsharedmemory/region/out/register", json=reg)
        assert r.status_code == 200, r.text
        codings = np.zeros((ROWS, CODE_SIZE), dtype=np.float32)
        body = {
            "inputs": [
                {
                    "name": "codings",
                    "datatype": "FP32",
                    "shape": [ROWS, CODE_SIZE],
                    "data": codings.ravel().tolist(),
                }
            ],
            "outputs": [
                {
                    "name": "output",
                    "parameters": {
                        "shared_memory_region": "out",
                        "shared_memory_byte_size": out_bytes,
                    },
                }
            ],
        }
        response = client.post("/v2/models/digits-ae.decoder/versions/1/infer", json=body)
        assert response.status_code == 200, (response.status_code, response.text)
        assert len(response.content) < 2048
    finally:
        client.post("/v2/systemsharedmemory/unregister")
        memory.close()
        memory.unlink()


@pytest.fixture
def small_tensor_app(data_dir: Path) -> Iterator[TestClient]:
    settings = settings_for(
        data_dir, oip_shared_memory=True, oip_shared_memory_max_tensor_bytes=2048
    )
    with TestClient(create_app(settings, start_workers=False)) as client:
        yield client


def test_a_tensor_in_shared_memory_is_held_to_its_own_limit(small_tensor_app: TestClient) -> None:
    """A region's object may be sparse (ftruncate: it costs its client nothing), and rows times
    a wide model's width can ask for tens of GB: the server would allocate the input it reads
    and the output it computes. Both are 400 past AESVC_OIP_SHARED_MEMORY_MAX_TENSOR_BYTES,
    before anything is queued."""
    client = small_tensor_app
    size = ROWS * WIDTH * 4  # 2560
    memory = shared_memory.SharedMemory(
        name=f"aesvc-probe-{uuid.uuid4().hex[:8]}", create=True, size=size
    )
    region = {"shared_memory_region": "big", "shared_memory_byte_size": size}
    try:
        reg = {"key": "/" + memory.name, "offset": 0, "byte_size": size}
        assert (
            client.post("/v2/systemsharedmemory/region/big/register", json=reg).status_code == 200
        )
        codings = {"name": "codings", "datatype": "FP32", "shape": [ROWS, CODE_SIZE]}
        codings["data"] = [0.0] * (ROWS * CODE_SIZE)
        decode = {"inputs": [codings], "outputs": [{"name": "output", "parameters": region}]}
        refused = client.post("/v2/models/digits-ae.decoder/versions/1/infer", json=decode)
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert "output 'output'" in error and "AESVC_OIP_SHARED_MEMORY_MAX_TENSOR_BYTES" in error

        rows = {"name": "input", "datatype": "FP32", "shape": [ROWS, WIDTH], "parameters": region}
        encode = {"inputs": [rows], "outputs": [{"name": "codings"}]}
        refused = client.post("/v2/models/digits-ae/versions/1/infer", json=encode)
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert "input 'input'" in error and "AESVC_OIP_SHARED_MEMORY_MAX_TENSOR_BYTES" in error

        fewer = {**rows, "shape": [ROWS // 2, WIDTH]}  # 1280 bytes: read
        fewer["parameters"] = {**region, "shared_memory_byte_size": size // 2}
        answered = client.post("/v2/models/digits-ae/versions/1/infer", json={"inputs": [fewer]})
        assert answered.status_code == 200, answered.text
    finally:
        client.post("/v2/systemsharedmemory/unregister")
        memory.close()
        memory.unlink()
