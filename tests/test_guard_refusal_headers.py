"""docs/SECURITY.md and docs/api.md say *every* answer carries the security headers and
API-Version: the request guard's own refusals (400 host, 403 cross-site, 415) included."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.guard import API_VERSION_DATE
from service.main import create_app

DEFAULT_HOSTS = Settings.model_fields["allowed_hosts"].default


@pytest.fixture
def local(settings: Settings) -> Iterator[TestClient]:
    app = create_app(
        settings.model_copy(update={"allowed_hosts": DEFAULT_HOSTS}), start_workers=False
    )
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client


REFUSALS = {
    "host-400": ("GET", "/v1/models", {"Host": "attacker.example"}, None),
    "cross-site-403": ("POST", "/v1/jobs", {"Origin": "http://attacker.example"}, b"{}"),
    "text-plain-415": ("POST", "/v1/jobs", {"Content-Type": "text/plain"}, b"{}"),
    "api-version-400": ("GET", "/v1/models", {"API-Version": "2020-01-01"}, None),
    "fast-path-host-400": (
        "POST",
        "/v1/models/m/versions/1/encode",
        {"Host": "attacker.example", "Content-Type": "application/json"},
        b"{}",
    ),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_the_guards_refusals_carry_the_headers_every_answer_carries(
    local: TestClient, case: str
) -> None:
    method, path, headers, body = REFUSALS[case]
    response = local.request(method, path, headers=headers, content=body)
    assert response.status_code in (400, 403, 415), response.text
    assert response.headers.get("x-content-type-options") == "nosniff", dict(response.headers)
    assert response.headers.get("x-frame-options") == "DENY"
    assert response.headers.get("referrer-policy") == "no-referrer"
    assert response.headers.get("api-version") == API_VERSION_DATE
