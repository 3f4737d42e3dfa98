"""Per-caller rate limits (429 + RateLimit-*) and the dated API-Version header."""

from __future__ import annotations

import tracemalloc

from fastapi.testclient import TestClient
from starlette.requests import Request

from service.config import Settings
from service.guard import API_VERSION_DATE
from service.main import create_app
from service.rate_limits import RateLimiter
from service.security import create_key
from tests.factories import job_body


def test_a_caller_past_its_burst_gets_429_with_ratelimit_headers(settings: Settings) -> None:
    limited = settings.model_copy(update={"rate_limit_per_s": 0.5, "rate_limit_burst": 3})
    with TestClient(create_app(limited, start_workers=False)) as client:
        remaining = []
        for _ in range(3):
            response = client.get("/v1/jobs")
            assert response.status_code == 200
            assert response.headers["RateLimit-Limit"] == "3"
            remaining.append(int(response.headers["RateLimit-Remaining"]))
        assert remaining == [2, 1, 0]
        refused = client.get("/v1/datasets")
        assert refused.status_code == 429
        body = refused.json()
        assert body["code"] == "rate_limited" and "rate limit" in body["detail"]
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["RateLimit-Remaining"] == "0"
        assert int(refused.headers["RateLimit-Reset"]) >= 1
        # the inference fast path counts too; health probes never do
        assert (
            client.post("/v1/models/m/versions/1/encode", json={"inputs": [[1]]}).status_code == 429
        )
        assert client.get("/healthz").status_code == 200
        assert "RateLimit-Limit" not in client.get("/healthz").headers


def test_off_on_loopback_by_default_and_per_key_with_auth(settings: Settings) -> None:
    with TestClient(create_app(settings, start_workers=False)) as client:
        assert "RateLimit-Limit" not in client.get("/v1/jobs").headers
    # a slow refill: on a loaded CI machine the default rate would refill between requests
    secured = settings.model_copy(
        update={"auth": "required", "rate_limit_burst": 2, "rate_limit_per_s": 0.01}
    )
    app = create_app(secured, start_workers=False)
    with TestClient(app) as client:
        with app.state.ctx.session_factory() as session:
            _, alice = create_key(session=session, name="alice", scopes=["read"])
            _, bob = create_key(session=session, name="bob", scopes=["read"])
        as_alice = {"Authorization": f"Bearer {alice}"}
        as_bob = {"Authorization": f"Bearer {bob}"}
        assert client.get("/v1/jobs", headers=as_alice).headers["RateLimit-Limit"] == "2"
        assert client.get("/v1/jobs", headers=as_alice).status_code == 200
        assert client.get("/v1/jobs", headers=as_alice).status_code == 429
        assert client.get("/v1/jobs", headers=as_bob).status_code == 200  # its own bucket


def test_every_answer_names_the_api_version_and_an_unknown_one_is_refused(
    client: TestClient,
) -> None:
    assert client.get("/v1/jobs").headers["API-Version"] == API_VERSION_DATE
    assert client.get("/healthz").headers["API-Version"] == API_VERSION_DATE
    same = client.get("/v1/jobs", headers={"API-Version": API_VERSION_DATE})
    assert same.status_code == 200
    old = client.get("/v1/jobs", headers={"API-Version": "2025-01-01"})
    assert old.status_code == 400 and old.json()["code"] == "api_version_unsupported"


def test_a_key_past_its_quota_of_active_jobs_gets_429_until_one_ends(settings: Settings) -> None:
    secured = settings.model_copy(
        update={"auth": "required", "quota_active_jobs": 2, "rate_limit_per_s": 0}
    )
    assert settings.resolved_quota_active_jobs is None  # off with auth disabled
    assert settings.model_copy(update={"auth": "required"}).resolved_quota_active_jobs == 100
    app = create_app(secured, start_workers=False)
    with TestClient(app) as client:
        with app.state.ctx.session_factory() as session:
            _, alice = create_key(session=session, name="alice", scopes=["read", "train"])
            _, bob = create_key(session=session, name="bob", scopes=["read", "train"])
        as_alice = {"Authorization": f"Bearer {alice}"}
        as_bob = {"Authorization": f"Bearer {bob}"}
        jobs = [
            client.post("/v1/jobs", json=job_body(model_name=f"q{i}"), headers=as_alice)
            for i in range(2)
        ]
        assert [r.status_code for r in jobs] == [202, 202]
        refused = client.post("/v1/jobs", json=job_body(model_name="q2"), headers=as_alice)
        assert refused.status_code == 429, refused.text
        problem = refused.json()
        assert (
            problem["code"] == "quota_exceeded" and "AESVC_QUOTA_ACTIVE_JOBS" in problem["detail"]
        )
        assert problem["quota"] == 2 and problem["active_jobs"] == 2
        assert int(refused.headers["Retry-After"]) >= 1
        assert client.get("/v1/jobs", headers=as_alice).json()["count"] == 2  # nothing queued
        batch = {"model": "q0", "dataset": "digits", "operation": "encode"}
        refused_batch = client.post("/v1/batch-jobs", json=batch, headers=as_alice)
        assert refused_batch.status_code == 429 and refused_batch.json()["code"] == "quota_exceeded"
        # bob's quota is his own; a cancelled job frees alice's place
        assert (
            client.post("/v1/jobs", json=job_body(model_name="b"), headers=as_bob).status_code
            == 202
        )
        cancel = client.post(f"/v1/jobs/{jobs[0].json()['id']}/cancel", headers=as_alice)
        assert cancel.status_code == 200, cancel.text
        again = client.post("/v1/jobs", json=job_body(model_name="q2"), headers=as_alice)
        assert again.status_code == 202, again.text


def test_a_bucket_keeps_only_the_start_of_a_long_caller() -> None:
    """Behind AESVC_TRUSTED_PROXIES=*, the caller is what X-Forwarded-For says, up to the 64
    KiB of a request head: 1,000 such callers held 60 MB of bucket keys."""
    limiter = RateLimiter(per_s=10.0, burst=5)
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    tracemalloc.start()
    for i in range(1000):  # each a new request's header, dropped after
        limiter.take(request, f"{i:04d}" + "x" * 60_000)
    grown, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert grown < 2_000_000, grown
