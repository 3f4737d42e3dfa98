"""SIGKILL of `aesvc serve` while clients encode and reconstruct (JSON and .npy) and a job
trains: clients see only connection errors, never a 5xx or a wrong answer; restarted on the
same data, the same version answers byte for byte as before, and nothing is lost, duplicated
or left half-written."""

from __future__ import annotations

import io
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pytest

from service.config import Settings
from tests.factories import job_body, npy_bytes, random_matrix, wait_for, wait_for_job
from tests.fault.store_checks import assert_store_whole, versions_of
from tests.live import LiveServer, running

pytestmark = pytest.mark.slow

N_CLIENTS = 4
V1 = "/v1/models/served/versions/1"
CALLS = [(op, fmt) for op in ("encode", "reconstruct") for fmt in ("json", "npy")]
MAIN = {"encode": "codings", "reconstruct": "reconstructions"}


def call(http: httpx.Client, op: str, fmt: str, rows: np.ndarray) -> httpx.Response:
    if fmt == "json":
        return http.post(f"{V1}/{op}", json={"inputs": rows.tolist()})
    return http.post(
        f"{V1}/{op}",
        content=npy_bytes(rows),
        headers={"content-type": "application/x-npy", "accept": "application/x-npy"},
    )


def main_array(response: httpx.Response, op: str, fmt: str) -> np.ndarray:
    if fmt == "npy":
        assert response.headers["content-type"] == "application/x-npy"
        return np.load(io.BytesIO(response.content), allow_pickle=False)
    body = response.json()
    assert (body["model"], body["version"]) == ("served", 1)
    return np.asarray(body[MAIN[op]], dtype=np.float32)


@dataclass
class Client:
    """One thread sending its own rows, so that an answer meant for another is caught."""

    rows: np.ndarray
    expected: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    answered: int = 0
    wrong: list[Any] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def run(self, base_url: str, stop: threading.Event) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            while not stop.is_set():
                for op, fmt in CALLS:
                    try:
                        response = call(http, op, fmt, self.rows)
                    except Exception as exc:  # what a client of a dead server sees
                        self.errors.append(exc)
                        continue
                    try:
                        assert response.status_code == 200, response.text
                        got = main_array(response, op, fmt)
                        # Batched with other clients' rows: equal to float32 rounding.
                        np.testing.assert_allclose(
                            got, self.expected[(op, fmt)], rtol=1e-5, atol=1e-6
                        )
                        self.answered += 1
                    except Exception as exc:
                        self.wrong.append((op, fmt, response.status_code, repr(exc)[:500]))


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    with running(settings, workers=1) as live:
        yield live


def test_sigkill_api_under_inference_load(server: LiveServer, settings: Settings) -> None:
    with server.client() as http:
        trained = http.post(
            "/v1/jobs", json=job_body(model_name="served", dataset="pca3d", code_size=2)
        )
        done = wait_for_job(lambda path: http.get(path).json(), trained.json()["id"])
        assert done["status"] == "succeeded", done
        clients = [Client(rows=random_matrix(8, 3, seed=i)) for i in range(N_CLIENTS)]
        before: dict[tuple[int, str, str], bytes] = {}
        for i, client in enumerate(clients):
            for op, fmt in CALLS:
                response = call(http, op, fmt, client.rows)
                assert response.status_code == 200, response.text
                before[(i, op, fmt)] = response.content
                client.expected[(op, fmt)] = main_array(response, op, fmt)
        # A job mid-training when the API dies: its worker hands it back, nothing is lost.
        slow = job_body(
            model_name="inflight",
            dataset="digits",
            epochs=300,
            training={"early_stopping_patience": None},
        )
        inflight = http.post("/v1/jobs", json=slow).json()["id"]
        wait_for(lambda: http.get(f"/v1/jobs/{inflight}").json()["status"] == "running")
        jobs_before = {j["id"]: j for j in http.get("/v1/jobs").json()["data"]}
        versions_before = versions_of(http)

    stop = threading.Event()
    threads = [
        threading.Thread(target=c.run, args=(server.base_url, stop), daemon=True) for c in clients
    ]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: all(c.answered >= 20 for c in clients), timeout_s=120)
        with server.client() as http:
            assert http.get(f"/v1/jobs/{inflight}").json()["status"] == "running"
        server.stop(signal.SIGKILL)
        answered_at_kill = [c.answered for c in clients]
        wait_for(lambda: all(c.errors for c in clients), timeout_s=30)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    assert [c.wrong for c in clients] == [[]] * N_CLIENTS  # no 5xx, no wrong answer
    for client, answered in zip(clients, answered_at_kill, strict=True):
        assert answered >= 20 and client.errors
        unexpected = [e for e in client.errors if not isinstance(e, httpx.TransportError)]
        assert unexpected == [], unexpected

    server.start()
    with server.client() as http:
        for i, client in enumerate(clients):
            for op, fmt in CALLS:
                response = call(http, op, fmt, client.rows)
                assert response.status_code == 200, response.text
                assert response.content == before[(i, op, fmt)], (op, fmt)

        # The dying worker handed its job back (no attempt spent); the new one resumes it.
        resumed = wait_for(
            lambda: (
                (job := http.get(f"/v1/jobs/{inflight}").json())["status"] == "running"
                and job["worker"]["pid"] != jobs_before[inflight]["worker"]["pid"]
                and job
            ),
            timeout_s=60,
        )
        assert resumed["attempt"] == 1 and resumed["attempt_errors"] == [], resumed
        assert http.post(f"/v1/jobs/{inflight}/cancel").status_code == 200
        cancelled = wait_for_job(lambda path: http.get(path).json(), inflight, timeout_s=60)
        assert cancelled["status"] == "cancelled" and cancelled["model_version"] is None

        jobs_after = {j["id"]: j for j in http.get("/v1/jobs").json()["data"]}
        assert jobs_after.keys() == jobs_before.keys()
        assert versions_of(http) == versions_before  # none lost, none added twice
        assert_store_whole(settings, http)
