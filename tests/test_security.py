"""API keys and scopes: every route has one scope; 401 vs 403; revocation; open binds."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli_app
from service.config import Settings
from service.main import create_app
from service.security import PUBLIC, SCOPES, create_key, required_scope, revoke_key


@pytest.fixture
def secured_app(settings: Settings) -> FastAPI:
    return create_app(settings.model_copy(update={"auth": "required"}), start_workers=False)


@pytest.fixture
def secured(secured_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(secured_app) as client:
        client.fastapi_app = secured_app  # type: ignore[attr-defined]
        yield client


def _key(client: TestClient, *scopes: str) -> str:
    with client.fastapi_app.state.ctx.session_factory() as session:  # type: ignore[attr-defined]
        _, key = create_key(session=session, name=f"test-{'-'.join(scopes)}", scopes=list(scopes))
    return key


def _routes(client: TestClient) -> list[tuple[str, str, str]]:
    """(method, path, scope) for every operation the app serves, from its OpenAPI schema."""
    routes = []
    for path, operations in client.fastapi_app.openapi()["paths"].items():  # type: ignore[attr-defined]
        for method, operation in operations.items():
            scope = required_scope(operation.get("tags", []), method, path)  # raises if unscoped
            routes.append((method.upper(), path, scope))
    return routes


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_declares_exactly_one_known_scope(secured: TestClient) -> None:
    routes = _routes(secured)
    assert len(routes) > 20
    for method, path, scope in routes:
        assert scope in (*SCOPES, PUBLIC), (method, path, scope)


def test_each_route_answers_401_without_a_key_and_403_with_the_wrong_scope(
    secured: TestClient,
) -> None:
    keys = {scope: _key(secured, scope) for scope in ("read", "infer", "train")}
    for method, path, scope in _routes(secured):
        url = _concrete(path)
        if scope == PUBLIC:
            response = secured.request(method, url)
            assert response.status_code not in (401, 403), (method, path)
            continue
        anonymous = secured.request(method, url)
        assert anonymous.status_code == 401, (method, path, anonymous.status_code)
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        wrong = (
            next(k for s, k in keys.items() if s != scope) if scope != "admin" else keys["train"]
        )
        denied = secured.request(method, url, headers={"Authorization": f"Bearer {wrong}"})
        assert denied.status_code == 403, (method, path, denied.status_code)
        if path.startswith("/v2"):  # the Open Inference Protocol's own error body
            assert set(anonymous.json()) == {"error"}, (method, path, anonymous.text)
            assert set(denied.json()) == {"error"} and scope in denied.json()["error"]
        else:
            assert denied.headers["content-type"] == "application/problem+json"
            assert scope in denied.json()["detail"]
        if scope in keys:
            allowed = secured.request(method, url, headers={"X-API-Key": keys[scope]})
            assert allowed.status_code not in (401, 403), (method, path)


def test_admin_holds_every_scope_and_revocation_is_immediate(secured: TestClient) -> None:
    key = _key(secured, "admin")
    headers = {"Authorization": f"Bearer {key}"}
    assert secured.get("/v1/datasets", headers=headers).status_code == 200
    key_id = key.split("_")[1]
    with secured.fastapi_app.state.ctx.session_factory() as session:  # type: ignore[attr-defined]
        assert revoke_key(session=session, key_id=key_id)
    refused = secured.get("/v1/datasets", headers=headers)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


def test_malformed_and_forged_keys_are_401(secured: TestClient) -> None:
    real = _key(secured, "read")
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    for presented in ("nonsense", "aesvc_", "aesvc_abc_def", forged):
        response = secured.get("/v1/datasets", headers={"Authorization": f"Bearer {presented}"})
        assert response.status_code == 401, presented


def test_health_and_metrics_stay_open(secured: TestClient) -> None:
    assert secured.get("/healthz").status_code == 200
    assert secured.get("/readyz").status_code == 200


@pytest.mark.slow  # several `aesvc keys` processes
def test_cli_creates_lists_and_revokes_keys(settings: Settings) -> None:
    env = {
        "AESVC_DATA_DIR": str(settings.data_dir),
        "AESVC_DATABASE_URL": settings.resolved_database_url,
    }
    run = [sys.executable, "-m", "service.cli", "keys"]
    created = subprocess.run(
        [*run, "create", "--name", "ci", "--scopes", "read,train"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = created.stdout.strip()
    assert key.startswith("aesvc_")
    listed = subprocess.run(
        [*run, "list"], env=env, capture_output=True, text=True, check=True
    ).stdout
    key_id = key.split("_")[1]
    assert key_id in listed and "read,train" in listed and "active" in listed
    assert key.split("_", 2)[2] not in listed  # the secret is never shown again
    subprocess.run([*run, "revoke", key_id], env=env, check=True, capture_output=True)
    assert (
        "revoked" in subprocess.run([*run, "list"], env=env, capture_output=True, text=True).stdout
    )
    bad = subprocess.run(
        [*run, "create", "--name", "x", "--scopes", "root"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "scopes must be among" in bad.stderr


@pytest.mark.usefixtures("root_logging")  # serve configures the root logger
def test_serve_refuses_an_open_public_bind(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process (a refusal's exit status as a process: tests/test_object_store_urls.py)."""
    env = {
        "AESVC_DATA_DIR": str(settings.data_dir),
        "AESVC_DATABASE_URL": settings.resolved_database_url,
        "AESVC_HOST": "0.0.0.0",
        "AESVC_AUTH": "disabled",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 2 and not served
    assert "refusing to serve 0.0.0.0" in result.stderr


def test_alias_history_names_the_key_that_moved_it(secured: TestClient, settings: Settings) -> None:
    from tests.factories import job_body, run_worker

    admin = {"Authorization": f"Bearer {_key(secured, 'admin')}"}
    job = secured.post(
        "/v1/jobs", json=job_body(model_name="keyed", dataset="pca3d", code_size=2), headers=admin
    )
    assert job.status_code == 202
    run_worker(settings)
    moved = secured.put("/v1/models/keyed/aliases/prod", json={"version": 1}, headers=admin)
    assert moved.status_code == 200, moved.text
    history = secured.get("/v1/models/keyed/aliases/prod/history", headers=admin).json()
    assert history["data"][-1]["actor"] == "test-admin"


def test_every_delete_needs_admin(secured: TestClient) -> None:
    """README: `admin` for deletes. A train key uploads datasets but cannot delete one."""
    deletes = {p: scope for m, p, scope in _routes(secured) if m == "DELETE"}
    assert "/v1/datasets/{id_or_name}" in deletes
    assert set(deletes.values()) == {"admin"}, deletes
    train = {"Authorization": f"Bearer {_key(secured, 'train')}"}
    response = secured.delete("/v1/datasets/digits", headers=train)
    assert response.status_code == 403, response.text
    admin = {"Authorization": f"Bearer {_key(secured, 'admin')}"}
    assert secured.get("/v1/datasets/digits", headers=admin).status_code == 200
