"""A Last-Event-ID header a client sends is never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from tests.factories import job_body


@pytest.fixture
def lenient(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, start_workers=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _finished_job(client: TestClient) -> str:
    job = client.post("/v1/jobs", json=job_body(model_name="sse", dataset="pca3d", code_size=2))
    assert job.status_code == 202, job.text
    job_id = job.json()["id"]
    assert client.post(f"/v1/jobs/{job_id}/cancel").status_code == 200
    return str(job_id)


@pytest.mark.parametrize(
    "last_event_id",
    # past int()'s 4300-digit limit; a raw latin-1 b"\xb2" ('²': str.isdigit() is True,
    # int() refuses it) fails the same way from a real socket (TestClient re-encodes it)
    [b"1" * 5000, b"0" * 4301],
    ids=["5000-digits", "4301-zeros"],
)
def test_a_strange_last_event_id_is_not_a_500(lenient: TestClient, last_event_id: bytes) -> None:
    job_id = _finished_job(lenient)
    response = lenient.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": last_event_id})
    assert response.status_code in (200, 400, 422), (response.status_code, response.text[:300])


def test_a_latin1_digit_in_last_event_id_is_not_a_500(settings: Settings) -> None:
    """b"\\xb2" is '²' once decoded as latin-1 (as starlette does): str.isdigit() says yes,
    int() raises. Sent through httpx's ASGI transport, which keeps the header's bytes."""
    import asyncio

    import httpx

    app = create_app(settings, start_workers=False)
    with TestClient(app) as client:
        job_id = _finished_job(client)

        async def ask() -> httpx.Response:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await c.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": b"\xb2"})

        response = asyncio.run(ask())
    assert response.status_code in (200, 400, 422), (response.status_code, response.text[:300])
