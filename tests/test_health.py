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
