"""Per-caller rate limits (429 + RateLimit-*) and the dated API-Version header."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.config import Settings
from service.guard import API_VERSION_DATE
from service.main import create_app
from service.security import create_key


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
