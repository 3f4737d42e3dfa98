"""AuthorizeBeforeBody: a database outage during the key check of a route with a body must
answer as it does on every other route (503 database_unavailable + Retry-After), not
FastAPI's 400 "There was an error parsing the body"."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc

import service.security as security
from service.config import Settings
from service.main import create_app
from service.security import create_key
from tests.factories import job_body


def _locked(*args: object, **kwargs: object) -> None:
    raise sa_exc.OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked"))


@pytest.mark.parametrize(
    "method,path,body",
    [("GET", "/v1/jobs", None), ("POST", "/v1/jobs", "job")],
    ids=["no-body-route", "json-body-route"],
)
def test_a_database_outage_at_the_key_check_is_503_on_every_route(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, method: str, path: str, body: str | None
) -> None:
    app = create_app(settings.model_copy(update={"auth": "required"}), start_workers=False)
    with TestClient(app) as client:
        with app.state.ctx.session_factory() as session:
            _, key = create_key(session=session, name="a", scopes=["read", "train"])
        monkeypatch.setattr(security, "_verify", _locked)
        response = client.request(
            method,
            path,
            json=job_body(model_name="m") if body else None,
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.json()["code"] == "database_unavailable"
    assert response.headers.get("retry-after")
