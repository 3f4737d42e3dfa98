"""PostgreSQL stops for a few seconds under load, then starts again.

While it is down: /readyz answers 503 and /healthz 200; every request that needs the
database answers 503 problem+json with Retry-After, none a 500, none slower than a bound;
inference on a version this process already loaded and resolved keeps answering 200 (the
weights are in memory, and no alias can move while nothing can write). Once it is back,
the same server (no restart, the same worker process) serves reads and writes again within
seconds, and every job that was running or queued finishes: nothing lost, no version twice.

The cluster is this test's own (tests/fault/conftest.py), in the SQLite CI run too.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from service.config import Settings
from tests.factories import csv_bytes, job_body, wait_for, wait_for_job
from tests.fault.conftest import PostgresCluster
from tests.live import LiveServer

pytestmark = pytest.mark.slow  # a PostgreSQL cluster stopped under load (fault)

PROBLEM_JSON = "application/problem+json"
N_FEATURES = 8
REQUEST_BOUND_S = 10.0  # outage or not, no request may take longer
OUTAGE_S = 4.0
RECOVERY_BOUND_S = 20.0  # PostgreSQL accepting connections -> /readyz 200 (a loaded CI box)
LONG_JOB_TARGET_S = 12.0
DB_KINDS = ("list_jobs", "list_models", "submit")


@dataclass
class Outcome:
    kind: str
    started: float
    ended: float
    status: int | None
    content_type: str = ""
    retry_after: str | None = None
    body: str = ""
    error: str | None = None


class Load:
    """Threads that encode, read and submit until stopped, recording every answer."""

    def __init__(self, base_url: str, rows: list[list[float]]) -> None:
        self.base_url, self.rows = base_url, rows
        self.outcomes: list[Outcome] = []
        self.accepted_jobs: list[str] = []
        self.submitting = threading.Event()  # the main thread opens and closes submissions
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(kind,), name=f"load-{kind}", daemon=True)
            for kind in ("encode", "encode", "list_jobs", "list_models", "submit")
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_BOUND_S + 30)

    def _request(self, client: httpx.Client, kind: str) -> httpx.Response:
        if kind == "encode":
            return client.post("/v1/models/m/versions/1/encode", json={"inputs": self.rows})
        if kind == "list_jobs":
            return client.get("/v1/jobs", params={"limit": 5})
        if kind == "list_models":
            return client.get("/v1/models")
        body = job_body(model_name="m", dataset="table", code_size=2, epochs=1)
        return client.post("/v1/jobs", json=body)

    def _loop(self, kind: str) -> None:
        pause_s = 0.5 if kind == "submit" else 0.02
        with httpx.Client(base_url=self.base_url, timeout=REQUEST_BOUND_S + 20) as client:
            while not self._stop.wait(pause_s):
                if kind == "submit" and not self.submitting.is_set():
                    continue
                started = time.monotonic()
                try:
                    response = self._request(client, kind)
                except httpx.HTTPError as exc:
                    self._record(Outcome(kind, started, time.monotonic(), None, error=repr(exc)))
                    continue
                outcome = Outcome(
                    kind,
                    started,
                    time.monotonic(),
                    response.status_code,
                    response.headers.get("content-type", ""),
                    response.headers.get("retry-after"),
                    response.text[:300],
                )
                self._record(outcome)
                if kind == "submit" and response.status_code == 202:
                    with self._lock:
                        self.accepted_jobs.append(response.json()["id"])

    def _record(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def seen(self, test: Callable[[Outcome], bool]) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if test(o)]


def table_csv() -> bytes:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, N_FEATURES)).astype(np.float32)
    X[:, 4:] = X[:, :4] @ rng.normal(size=(4, 4)).astype(np.float32)  # structure to encode
    return csv_bytes(X)


def ready(server: LiveServer) -> httpx.Response:
    return httpx.get(f"{server.base_url}/readyz", timeout=REQUEST_BOUND_S)


def test_postgres_outage_under_load(postgres_cluster: PostgresCluster, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=postgres_cluster.url,
        heartbeat_interval_s=0.3,
        lease_timeout_s=30.0,  # the default order of magnitude: longer than the outage
        poll_interval_s=0.1,
    )
    server = LiveServer(settings, workers=1, env={"AESVC_BUILTIN_DATASETS": "false"}).start()
    api = server.client()

    def get_json(path: str) -> Any:
        response = api.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def submit(**overrides: Any) -> str:
        body = job_body(model_name="m", dataset="table", code_size=2, **overrides)
        response = api.post("/v1/jobs", json=body)
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    try:
        files = {"file": ("table.csv", table_csv(), "text/csv")}
        assert api.post("/v1/datasets", files=files, data={"name": "table"}).status_code == 201
        first = wait_for_job(get_json, submit(epochs=10))
        assert first["status"] == "succeeded" and first["model_version"] == 1, first
        rows = np.random.default_rng(1).normal(size=(4, N_FEATURES)).round(3).tolist()
        assert api.post("/v1/models/m/versions/1/encode", json={"inputs": rows}).status_code == 200
        worker_pids = ready(server).json()["checks"]["workers"]["pids"]
        assert len(worker_pids) == 1

        # A job long enough to be running when PostgreSQL stops, and one queued behind it.
        span_s = (_at(first["finished_at"]) - _at(first["started_at"])) / 10  # per epoch
        epochs = min(10000, max(20, math.ceil(LONG_JOB_TARGET_S / max(span_s, 1e-3))))
        running_id = submit(epochs=epochs)
        queued_id = submit(epochs=2)

        with Load(server.base_url, rows) as load:
            load.submitting.set()
            wait_for(
                lambda: get_json(f"/v1/jobs/{running_id}")["progress"] is not None, timeout_s=60
            )
            wait_for(lambda: len(load.accepted_jobs) >= 1, timeout_s=30)
            wait_for(lambda: all(load.seen(lambda o, k=k: o.kind == k) for k in DB_KINDS))
            before = get_json(f"/v1/jobs/{running_id}")
            assert before["status"] == "running", f"not running when PostgreSQL stops: {before}"
            assert get_json(f"/v1/jobs/{queued_id}")["status"] == "queued"

            postgres_cluster.stop("fast")
            down_at = time.monotonic()
            readyz, liveness = [], []
            while time.monotonic() - down_at < OUTAGE_S or not all(
                load.seen(lambda o, k=k: o.kind == k and o.started > down_at) for k in DB_KINDS
            ):
                assert time.monotonic() - down_at < 60, "no request answered during the outage"
                readyz.append(ready(server))
                liveness.append(httpx.get(f"{server.base_url}/healthz", timeout=REQUEST_BOUND_S))
                time.sleep(0.25)
            up_started_at = time.monotonic()
            postgres_cluster.start()
            up_at = time.monotonic()

            recovered = wait_for(
                lambda: ready(server).status_code == 200, timeout_s=RECOVERY_BOUND_S
            )
            assert recovered
            ready_at = time.monotonic()
            wait_for(
                lambda: all(
                    load.seen(lambda o, k=k: o.kind == k and o.started > ready_at and o.status)
                    for k in DB_KINDS
                ),
                timeout_s=30,
            )
            wait_for(lambda: any(o.started > ready_at for o in load.seen(_accepted)))
            load.submitting.clear()

        # -- while it was down ---------------------------------------------------------
        assert all(r.status_code == 503 for r in readyz), [r.text for r in readyz]
        assert all(r.headers.get("retry-after") for r in readyz)
        assert all(r.status_code == 200 for r in liveness)
        outcomes = load.outcomes
        failures = [o for o in outcomes if not _acceptable(o)]
        assert not failures, failures[:5]
        slow = [o for o in outcomes if o.ended - o.started > REQUEST_BOUND_S]
        assert not slow, slow[:5]
        in_outage = [o for o in outcomes if o.started > down_at and o.ended < up_started_at]
        for kind in DB_KINDS:
            answers = [o for o in in_outage if o.kind == kind]
            assert answers and all(o.status == 503 for o in answers), (kind, answers[:3])
        encodes = [o for o in in_outage if o.kind == "encode"]
        assert encodes and all(o.status == 200 for o in encodes), encodes[:3]

        # -- after it came back: the same server and worker, everything answered ---------
        assert ready_at - up_at < RECOVERY_BOUND_S
        after = [o for o in outcomes if o.started > ready_at]
        assert all(o.status in (200, 202) for o in after), [o for o in after if o.status >= 300]
        assert ready(server).json()["checks"]["workers"]["pids"] == worker_pids
        assert server.process is not None and server.process.poll() is None

        jobs = [running_id, queued_id, *load.accepted_jobs]
        finished = [wait_for_job(get_json, job_id, timeout_s=180) for job_id in jobs]
        assert [j["status"] for j in finished] == ["succeeded"] * len(jobs), [
            (j["id"], j["status"], j["error"]) for j in finished if j["status"] != "succeeded"
        ]
        assert finished[0]["attempt"] == 1, finished[0]  # the outage cost it no attempt
        versions = get_json("/v1/models/m/versions?limit=1000")["data"]
        numbers = sorted(v["version"] for v in versions)
        assert numbers == list(range(1, len(jobs) + 2)), numbers  # job `first` made v1
        sources = [v["source_job_id"] for v in versions]
        assert sorted(sources) == sorted([first["id"], *jobs])
        assert sorted(j["model_version"] for j in finished) == numbers[1:]
    except BaseException:
        print(f"server log:\n{server.logs()}\npostgres log:\n{postgres_cluster.log()}")
        raise
    finally:
        api.close()
        server.cleanup()


def _accepted(outcome: Outcome) -> bool:
    return outcome.kind == "submit" and outcome.status == 202


def _acceptable(outcome: Outcome) -> bool:
    """200 (202 for a submission), or a 503 problem+json that says when to retry."""
    if outcome.status == (202 if outcome.kind == "submit" else 200):
        return True
    if outcome.status != 503 or outcome.kind == "encode":
        return False
    return outcome.content_type == PROBLEM_JSON and (outcome.retry_after or "").isdigit()


def _at(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()
