"""/metrics: parsed with prometheus-client's own parser."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.config import Settings
from service.metrics import JOBS_READ_EVERY_S
from tests.factories import job_body, run_worker


def _families(client: TestClient) -> dict[str, Any]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {f.name: f for f in text_string_to_metric_families(response.text)}


def _value(family: Any, sample_name: str, **labels: str) -> float:
    for sample in family.samples:
        if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items()):
            return float(sample.value)
    raise AssertionError(f"no sample {sample_name} {labels}")


def test_http_jobs_and_worker_metrics(client: TestClient, settings: Settings) -> None:
    client.get("/v1/datasets")
    client.get("/v1/jobs/nope")
    client.post("/v1/jobs", json=job_body(code_size=8))
    client.post("/v1/jobs", json=job_body(code_size=8))
    families = _families(client)
    http = families["aesvc_http_requests"]
    assert (
        _value(http, "aesvc_http_requests_total", route="/v1/datasets", method="GET", status="200")
        == 1
    )
    assert (
        _value(
            http, "aesvc_http_requests_total", route="/v1/jobs/{job_id}", method="GET", status="404"
        )
        == 1
    )
    latency = families["aesvc_http_request_duration_seconds"]
    assert (
        _value(
            latency, "aesvc_http_request_duration_seconds_count", route="/v1/jobs", method="POST"
        )
        == 2
    )
    jobs = families["aesvc_jobs"]
    assert _value(jobs, "aesvc_jobs", state="queued") == 2
    assert _value(jobs, "aesvc_jobs", state="succeeded") == 0

    run_worker(settings)
    time.sleep(JOBS_READ_EVERY_S)  # the job table is read at most once in that time
    families = _families(client)
    assert _value(families["aesvc_jobs"], "aesvc_jobs", state="succeeded") == 1
    assert _value(families["aesvc_jobs"], "aesvc_jobs", state="queued") == 1
    durations = families["aesvc_job_duration_seconds"]
    assert _value(durations, "aesvc_job_duration_seconds_count", state="succeeded") == 1
    assert _value(durations, "aesvc_job_duration_seconds_sum", state="succeeded") > 0
    assert _value(families["aesvc_workers_alive"], "aesvc_workers_alive") == 0
    for name in families:
        assert name.startswith("aesvc_") or name.startswith(("python_", "process_")), name


@pytest.mark.slow
@pytest.mark.alone
def test_scrapes_in_a_loop_leave_the_database_to_the_other_routes(settings: Settings) -> None:
    """/metrics needs no key and read the job table on every scrape (0.1 s with 100,000
    jobs), on a pooled connection and a threadpool thread: 50 callers scraping in a loop
    kept a job's GET waiting 6 s (17 s at worst) and /readyz 503. Now a read serves the
    scrapes of a second (JOBS_READ_EVERY_S)."""
    import threading
    import uuid

    import httpx
    from sqlalchemy import insert

    from service.database import create_db_engine, migrate, utcnow
    from service.training.tables import Job
    from service.zoo.spec import ModelSpec
    from tests.live import running

    spec = ModelSpec.model_validate(job_body()["spec"]).model_dump(mode="json")
    now, n_jobs = utcnow(), 60_000
    rows = [
        {"id": uuid.uuid4().hex, "model_name": "m", "spec": spec, "status": "succeeded",
         "attempt_errors": [], "created_at": now, "started_at": now, "finished_at": now}
        for _ in range(n_jobs)
    ]  # fmt: skip
    migrate(settings.resolved_database_url)  # a PostgreSQL test database starts empty
    engine = create_db_engine(settings.resolved_database_url)
    with engine.begin() as conn:
        conn.execute(insert(Job), rows)
    engine.dispose()
    with running(settings, workers=0) as server:
        stop = threading.Event()

        def scrape() -> None:
            with httpx.Client(base_url=server.base_url, timeout=60) as http:
                while not stop.is_set():
                    http.get("/metrics")

        scrapers = [threading.Thread(target=scrape) for _ in range(50)]
        for thread in scrapers:
            thread.start()
        try:
            time.sleep(2.0)
            waits, ready = [], []
            with httpx.Client(base_url=server.base_url, timeout=60) as http:
                for _ in range(8):
                    started = time.monotonic()
                    assert http.get(f"/v1/jobs/{rows[0]['id']}").status_code == 200
                    waits.append(time.monotonic() - started)
                    ready.append(http.get("/readyz").status_code)
        finally:
            stop.set()
            for thread in scrapers:
                thread.join()
    # 6 s (17 s at worst) before, on the database; what is left is the 50 scrapers' CPU on
    # 2 cores, the measuring client among their threads: 1.5 to 2.5 s a GET on a faster host
    assert max(waits) < 4.0, f"a job's GET waited {max(waits):.1f} s (/readyz: {ready})"
    assert ready == [200] * 8, ready
