"""/metrics: parsed with prometheus-client's own parser."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.config import Settings
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
    families = _families(client)
    assert _value(families["aesvc_jobs"], "aesvc_jobs", state="succeeded") == 1
    assert _value(families["aesvc_jobs"], "aesvc_jobs", state="queued") == 1
    durations = families["aesvc_job_duration_seconds"]
    assert _value(durations, "aesvc_job_duration_seconds_count", state="succeeded") == 1
    assert _value(durations, "aesvc_job_duration_seconds_sum", state="succeeded") > 0
    assert _value(families["aesvc_workers_alive"], "aesvc_workers_alive") == 0
    for name in families:
        assert name.startswith("aesvc_") or name.startswith(("python_", "process_")), name
