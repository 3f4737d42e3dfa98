"""Issue 22, defects 6, 7 and 9: what a web page can make a browser do to the service.

With the defaults (auth off, loopback), a page on another site must not drive the API: the
Host header is checked (DNS rebinding), state changes a browser marks cross-site are
refused, and the body types a browser sends without a pre-flight are refused where a
route takes JSON. The dashboard sends security headers; the docs need a key when auth
is required, unless AESVC_PUBLIC_DOCS says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.guard import API_VERSION_DATE
from service.main import create_app
from service.security import create_key
from tests.factories import npy_bytes
from tests.registry.builders import model_blob

DEFAULT_HOSTS = Settings.model_fields["allowed_hosts"].default
CROSS_SITE = [
    {"Origin": "http://attacker.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://127.0.0.1:3000"},  # another local server is another origin
]


@pytest.fixture
def local(settings: Settings) -> Iterator[TestClient]:
    """The app with the default allowed hosts, as a browser on this machine reaches it."""
    app = create_app(
        settings.model_copy(update={"allowed_hosts": DEFAULT_HOSTS}), start_workers=False
    )
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client


def test_only_loopback_host_names_are_answered_by_default(local: TestClient) -> None:
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST"):
        assert local.get("/v1/models", headers={"Host": host}).status_code == 200, host
    for host in ("attacker.example", "attacker.example:8000", "127.0.0.1.nip.io", ""):
        refused = local.get("/v1/models", headers={"Host": host})
        assert refused.status_code == 400, host
        assert refused.json()["type"].endswith("/host-not-allowed")
        assert "AESVC_ALLOWED_HOSTS" in refused.json()["detail"]
    # the inference fast path and /v2 too
    body = {"inputs": [[0.0] * 64]}
    rebinding = {"Host": "attacker.example"}
    assert (
        local.post("/v1/models/m/versions/1/encode", json=body, headers=rebinding).status_code
        == 400
    )
    assert "error" in local.get("/v2/health/ready", headers=rebinding).json()


def test_cross_site_state_changes_are_refused(local: TestClient, settings: Settings) -> None:
    data = npy_bytes(np.zeros((4, 3), dtype=np.float32))
    blob, _ = model_blob(seed=1)
    for headers in CROSS_SITE:
        upload = local.post(
            "/v1/datasets", files={"file": ("d.npy", data)}, data={"name": "d"}, headers=headers
        )
        assert upload.status_code == 403, (headers, upload.text)
        assert upload.json()["type"].endswith("/cross-site-request")
        imported = local.post(
            "/v1/models/m/versions", files={"file": ("m.safetensors", blob)}, headers=headers
        )
        assert imported.status_code == 403, headers
        unload = local.post("/v2/repository/models/digits-ae/unload", headers=headers)
        assert unload.status_code == 403 and "error" in unload.json(), headers
    assert local.get("/v1/datasets/d").status_code == 404
    assert local.get("/v1/models/m").status_code == 404
    # the same page served by the service itself (the dashboard) may
    same = {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"}
    upload = local.post(
        "/v1/datasets", files={"file": ("d.npy", data)}, data={"name": "d"}, headers=same
    )
    assert upload.status_code == 201, upload.text
    # reads are not state changes
    assert local.get("/v1/datasets/d", headers=CROSS_SITE[0]).status_code == 200


def test_bodies_a_browser_sends_without_a_preflight_are_refused(local: TestClient) -> None:
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        headers = {"Content-Type": kind}
        infer = local.post("/v2/models/m/infer", content=b'{"inputs": []}', headers=headers)
        assert infer.status_code == 415 and "error" in infer.json(), kind
        encode = local.post("/v1/models/m/versions/1/encode", content=b"{}", headers=headers)
        assert encode.status_code == 415, kind
        job = local.post("/v1/jobs", content=b"{}", headers=headers)
        assert job.status_code == 415 and job.json()["type"].endswith("/unsupported-media-type")


def test_every_answer_carries_security_headers_and_the_dashboard_a_csp(
    local: TestClient,
) -> None:
    page = local.get("/ui")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and "unsafe-inline" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert re.findall(r"<script(?![^>]*\bsrc=)", page.text) == []  # no inline script
    for answer in (page, local.get("/ui/static/app.js"), local.get("/healthz")):
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"


def _secured(settings: Settings, **update: object) -> TestClient:
    app = create_app(
        settings.model_copy(update={"auth": "required", **update}), start_workers=False
    )
    return TestClient(app)


def test_docs_need_a_key_when_auth_is_required(settings: Settings) -> None:
    with _secured(settings) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        assert client.get("/openapi.json").status_code == 401
        with client.app.state.ctx.session_factory() as session:  # type: ignore[attr-defined]
            _, key = create_key(session=session, name="reader", scopes=["read"])
        schema = client.get("/openapi.json", headers={"Authorization": f"Bearer {key}"})
        assert schema.status_code == 200 and "/v1/jobs" in schema.json()["paths"]
    with _secured(settings, public_docs=True) as client:
        assert client.get("/docs").status_code == 200
        assert client.get("/openapi.json").status_code == 200
    with TestClient(create_app(settings, start_workers=False)) as client:  # auth disabled
        assert client.get("/docs").status_code == 200


# An Origin that is not a URL is a cross-site request, not a 500.
@pytest.mark.parametrize("origin", ["http://[", "http://[::1", "http://]x"])
@pytest.mark.parametrize(
    "path", ["/v1/jobs", "/v1/models/m/versions/1/encode", "/v2/models/m/infer"]
)
def test_an_unparsable_origin_on_a_state_change_is_403_not_500(
    local: TestClient, origin: str, path: str
) -> None:
    response = local.post(path, json={}, headers={"Origin": origin})
    assert response.status_code == 403, (response.status_code, response.text[:200])


# docs/SECURITY.md and docs/api.md: *every* answer carries the security headers and
# API-Version, the guard's own refusals (400 host, 403 cross-site, 415) included.
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
