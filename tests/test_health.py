from __future__ import annotations

from fastapi.testclient import TestClient

from service.config import Settings
from service.database import downgrade, migrate


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_after_start(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and "failing" not in body
    assert set(body["checks"]) == {"database", "migrations", "workers"}
    assert all(check["ok"] is True for check in body["checks"].values())
    migrations = body["checks"]["migrations"]
    assert migrations["current"] == migrations["head"] and migrations["head"]


def test_readyz_is_503_naming_migrations_behind_head(
    client: TestClient, settings: Settings
) -> None:
    downgrade(settings.resolved_database_url, "base")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["failing"] == ["migrations"]
    assert body["checks"]["migrations"]["ok"] is False
    assert body["checks"]["migrations"]["current"] == []
    assert body["checks"]["database"]["ok"] is True

    migrate(settings.resolved_database_url)
    assert client.get("/readyz").status_code == 200


def test_readyz_and_the_v2_metadata_answer_their_declared_models(client: TestClient) -> None:
    """The 200s the schema now types (generated clients parse them): every field there."""
    from service.health import Readiness
    from service.inference.oip.schemas import ModelMetadata, ServerMetadata
    from tests.registry.builders import import_model

    ready = client.get("/readyz").json()
    assert Readiness.model_validate(ready).status == "ready" and set(ready) <= {
        "status",
        "checks",
        "failing",
    }
    server = client.get("/v2").json()
    assert set(server) == set(ServerMetadata.model_fields), server
    import_model(client, "ae")
    metadata = client.get("/v2/models/ae").json()
    assert set(metadata) == set(ModelMetadata.model_fields), metadata
    parsed = ModelMetadata.model_validate(metadata)
    assert parsed.versions == ["1"] and parsed.inputs[0].shape[0] == -1


def test_readiness_probes_that_arrive_together_share_one_check(settings: Settings) -> None:
    """A probe that came while another's database check ran was 503 ("the previous check
    has not answered yet"): of 4 probes at once, 2 were 503, and a caller probing in a loop
    (no key needed) took a healthy instance out of its balancer. Now they share the check."""
    import threading

    import httpx

    from tests.live import running

    with running(settings, workers=0) as server:
        statuses: list[int] = []

        def probe() -> None:
            statuses.append(httpx.get(f"{server.base_url}/readyz", timeout=30).status_code)

        for _ in range(3):
            threads = [threading.Thread(target=probe) for _ in range(12)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert statuses == [200] * 36, statuses
