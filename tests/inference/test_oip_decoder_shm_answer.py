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
