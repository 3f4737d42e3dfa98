"""Against a real uvicorn server: concurrent clients merge into batches, a bad request in a
burst fails alone, overload answers 503 with Retry-After, and preloads gate /readyz."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.main import create_app
from tests.factories import npy_bytes, wait_for
from tests.inference.conftest import DIGITS, settings_for
from tests.live import LiveServer, module_server

pytestmark = [pytest.mark.slow, pytest.mark.any_database]  # real `aesvc serve` processes under load

ENCODE = "/v1/models/digits-ae/versions/1/encode"


def serve(data_dir: Path, **env: str) -> LiveServer:
    settings = settings_for(data_dir)
    return LiveServer(settings, workers=0, env=env).start()


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[LiveServer]:
    """One server for the module. Every batch goes through the queue to the inference thread
    (no inline runs on the event loop): with inline runs, a quiet host answered a burst of
    256 one-row requests one by one 1 time in 5 (nothing to share); through the thread, 9 of 9
    bursts ran in 4 to 17 batches."""
    with module_server(settings_for(data_dir, inference_inline_rows=0), workers=0) as live:
        yield live


def metric(base_url: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = httpx.get(f"{base_url}/metrics").text
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                samples[tuple(sorted(s.labels.items()))] = s.value
    return samples


async def burst(
    base_url: str, bodies: list[dict[str, Any] | bytes], path: str = ENCODE
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        return await asyncio.gather(
            *[
                http.post(path, content=b, headers={"content-type": "application/x-npy"})
                if isinstance(b, bytes)
                else http.post(path, json=b)
                for b in bodies
            ]
        )


def version_stats(base_url: str) -> dict[str, Any]:
    """The OIP statistics extension's entry for digits-ae version 1."""
    response = httpx.get(f"{base_url}/v2/models/digits-ae/versions/1/stats")
    assert response.status_code == 200, response.text
    (entry,) = response.json()["model_stats"]
    out: dict[str, Any] = entry
    return out


def test_concurrent_clients_share_batches(server: LiveServer) -> None:
    bodies: list[dict[str, Any] | bytes] = [
        {"inputs": [DIGITS[i % 100].tolist()]} for i in range(32 * 8)
    ]
    before = version_stats(server.base_url)
    responses = asyncio.run(burst(server.base_url, bodies))
    assert all(r.status_code == 200 for r in responses)
    for i in (0, 37, 255):  # every caller gets its own row's coding back
        alone = httpx.post(f"{server.base_url}{ENCODE}", json=bodies[i]).json()["codings"]
        np.testing.assert_allclose(responses[i].json()["codings"], alone, atol=1e-5)
    rows = metric(server.base_url, "aesvc_inference_batch_rows_sum")[(("operation", "encode"),)]
    batches = metric(server.base_url, "aesvc_inference_batch_rows_count")[
        (("operation", "encode"),)
    ]
    assert rows >= 256 and batches < rows, (rows, batches)  # some batch held more than one row
    counted = metric(server.base_url, "aesvc_inference_requests_total")
    assert counted[(("operation", "encode"), ("status", "200"))] >= 256
    # the statistics extension sees the same: more rows answered than batches run
    after = version_stats(server.base_url)
    answered = after["inference_count"] - before["inference_count"]
    executed = after["execution_count"] - before["execution_count"]
    assert answered == 256 + 3 and executed < answered, (answered, executed)
    success = after["inference_stats"]["success"]["count"]
    assert success - before["inference_stats"]["success"]["count"] == 256 + 3


@pytest.mark.parametrize(
    "bad",
    [
        {"inputs": [[1.0] * 63]},
        {"inputs": [[1.0] * 63 + [1e39]]},  # infinite in float32
        {"inputs": []},
        {"inputs": [[1.0] * 64, [1.0] * 10]},
        {"inputs": [["a"] * 64]},
        npy_bytes(np.zeros((1, 8, 8), np.float32)),
        b"not an npy file",
    ],
    ids=["63-features", "inf", "empty", "ragged", "strings", "3d-npy", "malformed-npy"],
)
def test_a_bad_request_in_a_burst_of_50_fails_alone(server: LiveServer, bad: Any) -> None:
    bodies: list[dict[str, Any] | bytes] = [{"inputs": [DIGITS[i].tolist()]} for i in range(49)]
    bodies.insert(25, bad)
    responses = asyncio.run(burst(server.base_url, bodies))
    statuses = [r.status_code for r in responses]
    assert statuses[25] == 422, responses[25].text
    assert responses[25].headers["content-type"] == "application/problem+json"
    assert "expected" in responses[25].json()["detail"] or "number" in responses[25].text
    assert statuses[:25] + statuses[26:] == [200] * 49


def test_overload_is_503_with_retry_after_and_the_queue_stays_bounded(data_dir: Path) -> None:
    # 512 rows a request: past AESVC_INFERENCE_INLINE_ROWS (64), each batch goes through the
    # queue to the inference thread, and two queued requests overflow it. Requests of 64 rows
    # ran inline on the event loop and, on a quiet host, filled the queue 3 times in 5.
    live = serve(
        data_dir,
        AESVC_MAX_QUEUE_ROWS="1000",
        AESVC_MAX_REQUEST_ROWS="512",
        AESVC_MAX_BATCH_ROWS="512",
    )
    try:
        body = npy_bytes(np.resize(DIGITS, (512, DIGITS.shape[1])))
        responses = asyncio.run(burst(live.base_url, [body] * 64))
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {200, 503}, statuses
        refused = [r for r in responses if r.status_code == 503]
        assert refused, "64 concurrent requests of 512 rows never filled a 1,000-row queue"
        assert refused[0].headers["retry-after"] == "1"
        assert refused[0].headers["content-type"] == "application/problem+json"
        assert statuses.count(200) >= 1
        depth = metric(live.base_url, "aesvc_inference_queue_depth_rows")
        assert depth[()] == 0  # everything queued was answered or dropped
        counted = metric(live.base_url, "aesvc_inference_requests_total")
        assert counted[(("operation", "encode"), ("status", "503"))] == len(refused)
        stats = version_stats(live.base_url)["inference_stats"]
        assert stats["fail"]["count"] == len(refused)
        assert stats["success"]["count"] == statuses.count(200)
    finally:
        live.stop()


def test_readyz_waits_for_preloaded_versions(data_dir: Path) -> None:
    settings = settings_for(data_dir, preload="digits-ae@1,digits-vae")
    with TestClient(create_app(settings, start_workers=False)) as client:

        def ready() -> Any:
            response = client.get("/readyz")
            return response if response.status_code == 200 else None

        body = wait_for(ready, timeout_s=60).json()
        assert body["checks"]["models"]["versions"] == {
            "digits-ae@1": "loaded",
            "digits-vae@latest": "loaded",
        }
        loaded = metric_from_client(client, "aesvc_loaded_model_versions")
        assert loaded == 2
    missing = settings_for(data_dir, preload="nope@1")
    with TestClient(create_app(missing, start_workers=False)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "models" in response.json()["failing"]


def metric_from_client(client: TestClient, name: str) -> float:
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for s in family.samples:
            if s.name == name:
                return float(s.value)
    raise AssertionError(f"no {name}")
