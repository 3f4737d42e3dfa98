"""Request ids and structured logs."""

from __future__ import annotations

import inspect
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.config import Settings
from tests.factories import job_body
from tests.live import LiveServer, running


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "trace-abc.1"})
    assert given.headers["x-request-id"] == "trace-abc.1"
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32
    assert client.get("/healthz").headers["x-request-id"] != made
    # An id that could forge log lines is replaced, not echoed.
    hostile = client.get("/healthz", headers={"X-Request-ID": "a\tb c"})
    assert hostile.headers["x-request-id"] not in ("a\tb c", "")
    # Errors carry it too.
    assert (
        client.get("/v1/jobs/nope", headers={"X-Request-ID": "r-404"}).headers["x-request-id"]
        == "r-404"
    )


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    with running(settings, stop_signal=signal.SIGTERM, workers=0) as live:
        yield live


@pytest.mark.slow  # a real `aesvc serve`
def test_every_log_line_of_a_request_is_json_with_its_id(server: LiveServer) -> None:
    secret_body_marker = "digits"
    with server.client() as http:
        response = http.post(
            "/v1/jobs",
            json=job_body(model_name="logged"),
            headers={"X-Request-ID": "trace-777", "Authorization": "Bearer aesvc_not_a_real_key"},
        )
        assert response.status_code == 202
    server.stop()  # flushes every line of the request before we read them
    raw = server.logs(tail_chars=None)
    lines = [json.loads(line) for line in raw.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == "trace-777"]
    messages = [line["msg"] for line in mine]
    assert any("queued for model logged" in m for m in messages), messages
    access = [line for line in mine if line["logger"] == "service.access"]
    assert len(access) == 1
    assert access[0]["status"] == 202 and access[0]["route"] == "/v1/jobs"
    assert access[0]["duration_ms"] > 0
    assert "aesvc_not_a_real_key" not in raw  # no key in logs
    assert f'"dataset": "{secret_body_marker}"' not in raw  # no body content in logs


def test_fastapi_opentelemetry_is_off_unless_asked_for(tmp_path: Path) -> None:
    """FastAPI looks up OpenTelemetry providers on every request unless its telemetry config
    turns them off; the service turns them off unless AESVC_OPENTELEMETRY=true."""
    from service.main import create_app

    assert "telemetry" in inspect.signature(FastAPI).parameters
    default = create_app(Settings(data_dir=tmp_path / "a"))
    wanted = create_app(Settings(data_dir=tmp_path / "b", opentelemetry=True))
    off = {"tracing": False, "metrics": False, "logs": False}
    assert {k: default._telemetry[k] for k in off} == off  # type: ignore[attr-defined]
    assert {k: wanted._telemetry[k] for k in off} == dict.fromkeys(off, True)  # type: ignore[attr-defined]
