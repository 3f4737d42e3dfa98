"""An alias moved 50 times while 8 clients encode through it, against a real server:
every answer comes whole from the old or the new version, and none fails."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from tests.factories import job_body, run_worker
from tests.live import LiveServer

pytestmark = pytest.mark.slow  # 8 clients against a real server while an alias moves 50 times

N_CLIENTS = 8
N_MOVES = 50
ROWS = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
M = "/v1/models/pca-ae"


@pytest.fixture
def server(client: TestClient, settings: Settings) -> Iterator[LiveServer]:
    for seed in (1, 2):  # two trained versions with different weights
        body = job_body(model_name="pca-ae", dataset="pca3d", code_size=2, training={"seed": seed})
        assert client.post("/v1/jobs", json=body).status_code == 202
        assert run_worker(settings) == 1
    assert client.get(f"{M}/versions/2").json()["status"] == "ready"
    live = LiveServer(settings, workers=0).start()
    yield live
    live.stop()


def test_alias_moves_while_clients_encode(server: LiveServer) -> None:
    with server.client() as http:
        expected = {
            v: np.asarray(
                http.post(f"{M}/versions/{v}/encode", json={"inputs": ROWS}).json()["codings"]
            )
            for v in (1, 2)
        }
        assert not np.allclose(expected[1], expected[2])
        assert http.put(f"{M}/aliases/prod", json={"version": 1}).status_code == 200

    stop = threading.Event()
    answers: list[list[tuple[int, Any]]] = [[] for _ in range(N_CLIENTS)]

    def encode_until_stopped(out: list[tuple[int, Any]]) -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            while not stop.is_set():
                response = http.post(f"{M}/versions/prod/encode", json={"inputs": ROWS})
                out.append((response.status_code, response.json()))

    threads = [threading.Thread(target=encode_until_stopped, args=(a,)) for a in answers]
    for thread in threads:
        thread.start()
    with server.client() as http:
        for move in range(N_MOVES):
            moved = http.put(f"{M}/aliases/prod", json={"version": 2 if move % 2 == 0 else 1})
            assert moved.status_code == 200, moved.text
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    flat = [answer for per_client in answers for answer in per_client]
    assert all(len(per_client) > 0 for per_client in answers)
    failures = [(status, body) for status, body in flat if status != 200]
    assert failures == []
    seen = set()
    for _, body in flat:
        version = body["version"]
        assert version in (1, 2)
        np.testing.assert_allclose(np.asarray(body["codings"]), expected[version], atol=1e-6)
        seen.add(version)
    assert seen == {1, 2}
    switches = sum(
        a[1]["version"] != b[1]["version"]
        for per_client in answers
        for a, b in itertools.pairwise(per_client)
    )
    assert switches > 0 and len(flat) > N_MOVES  # the moves really happened under load

    with server.client() as http:
        history = http.get(f"{M}/aliases/prod/history", params={"limit": 1000}).json()
        assert history["count"] == N_MOVES + 1
        assert http.get(f"{M}/aliases/prod").json()["version"] == 1  # 50 moves: back to 1
        assert server.logs().count("Traceback") == 0
