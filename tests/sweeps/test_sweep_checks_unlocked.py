"""A sweep's checks build and measure every trial's network, which takes seconds (a search
space of 13 KB took 24 s): they ran inside the request's write transaction, which on SQLite
holds every other writer, so a job submitted meanwhile waited 19.6 s and two sweeps at
once were 503 (database is locked) after 30 s. They now run with no transaction open."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.sweeps import service as sweeps_service

BODY = {
    "model": "unlocked",
    "dataset": "pca3d",
    "base": {"training": {"epochs": 1}},
    "grid": {"architecture.code_size": [1, 2]},
}


def while_planning(monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]) -> None:
    """Run `act` when the sweep's trials are being checked, then check them."""
    real = sweeps_service.planned_trials

    def planned(*args: Any, **kwargs: Any) -> Any:
        act()
        return real(*args, **kwargs)

    monkeypatch.setattr(sweeps_service, "planned_trials", planned)


def other_writer(settings: Settings, statement: str = "", *params: str) -> None:
    """A write of another connection that does not wait for the lock (busy_timeout 0)."""
    path = settings.resolved_database_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")  # "database is locked" while a writer holds it
        if statement:
            conn.execute(statement, params)
        conn.execute("COMMIT")
    finally:
        conn.close()


@pytest.fixture
def sqlite_only(settings: Settings) -> None:
    if not settings.is_sqlite:
        pytest.skip("SQLite's one writer at a time; PostgreSQL locks rows")


@pytest.mark.usefixtures("sqlite_only")
def test_a_sweeps_checks_leave_the_database_to_other_writers(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[str] = []

    def write() -> None:
        try:
            other_writer(settings)
        except sqlite3.OperationalError as exc:
            errors.append(str(exc))

    while_planning(monkeypatch, write)
    response = client.post("/v1/sweeps", json=BODY)
    assert response.status_code == 202, response.text
    assert errors == []


@pytest.mark.usefixtures("sqlite_only")
def test_a_dataset_deleted_while_a_sweep_is_checked_is_a_404(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset_id = client.get("/v1/datasets/pca3d").json()["id"]
    while_planning(
        monkeypatch,
        lambda: other_writer(settings, "DELETE FROM dataset WHERE id = ?", dataset_id),
    )
    response = client.post("/v1/sweeps", json=BODY)
    assert response.status_code == 404 and response.json()["code"] == "dataset_not_found"
    assert client.get("/v1/sweeps").json()["count"] == 0
