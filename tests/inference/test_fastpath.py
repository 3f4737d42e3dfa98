"""The inference fast path: it serves exactly the routes it may call directly, in front of
the whole middleware stack, doing what that stack would (request id, body limit, metrics,
error handlers); it passes everything else through, and refuses (when the app is built)
what it would skip."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.testclient import TestClient
from prometheus_client import generate_latest
from starlette.types import Receive, Scope, Send

from service.config import Settings
from service.errors import install_error_handlers
from service.inference.api.fastpath import FastPathApp, InferenceFastPath
from service.metrics import ServiceMetrics
from service.request_id import RequestIdFilter, access_log
from service.security import authorize

LIMIT = 16
OPTIONS: dict[str, Any] = {"metrics": ServiceMetrics(), "max_body_bytes": LIMIT}


def direct_router() -> APIRouter:
    router = APIRouter(prefix="/v1/models/{name}/versions/{ref}", tags=["inference"])

    @router.post("/echo", operation_id="encode")
    async def echo(name: str, ref: str, request: Request) -> Response:
        body = await request.body()
        if body == b"boom":
            raise RuntimeError("a bug in the endpoint")
        return Response(f"{name}@{ref}:{body.decode()}")

    return router


def fast_app(tmp_path: Path, *, reached: list[tuple[str, str]]) -> tuple[FastAPI, ServiceMetrics]:
    router = direct_router()
    app = FastPathApp(dependencies=[Depends(authorize)])
    app.state.ctx = SimpleNamespace(
        settings=Settings(data_dir=tmp_path, auth="disabled"), rate_limiter=None
    )
    install_error_handlers(app)
    app.include_router(router)
    app.add_middleware(Recorder, paths=reached)
    metrics = ServiceMetrics({"encode"})
    app.fast_path = lambda stack: InferenceFastPath(
        stack,
        routes=router.routes,
        app_dependencies=app.router.dependencies,
        metrics=metrics,
        max_body_bytes=LIMIT,
    )
    return app, metrics


class Recorder:
    """Just inside the fast path: records each request that reaches the app's router."""

    def __init__(self, app: Any, *, paths: list[tuple[str, str]]) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.paths.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


def test_matching_posts_skip_the_stack_and_the_rest_pass_through(tmp_path: Path) -> None:
    reached: list[tuple[str, str]] = []
    app, _ = fast_app(tmp_path, reached=reached)
    with TestClient(app) as client:
        answer = client.post("/v1/models/m/versions/latest/echo", content=b"hello")
        assert (answer.status_code, answer.text) == (200, "m@latest:hello")
        assert reached == []  # served in front of the middleware stack
        assert client.get("/v1/models/m/versions/latest/echo").status_code == 405
        assert client.post("/v1/models/m/versions/latest/other").status_code == 404
    assert reached == [
        ("GET", "/v1/models/m/versions/latest/echo"),
        ("POST", "/v1/models/m/versions/latest/other"),
    ]


def test_the_fast_path_does_what_the_stack_would(tmp_path: Path) -> None:
    app, metrics = fast_app(tmp_path, reached=[])
    url = "/v1/models/m/versions/latest/echo"
    with TestClient(app, raise_server_exceptions=False) as client:
        given = client.post(url, content=b"a", headers={"X-Request-ID": "trace-9"})
        assert given.headers["x-request-id"] == "trace-9"
        made = client.post(url, content=b"a", headers={"X-Request-ID": "bad id\t"})
        assert len(made.headers["x-request-id"]) == 32
        declared = client.post(url, content=b"x" * (LIMIT + 1))
        assert declared.status_code == 413
        assert (
            declared.json()["detail"]
            == f"the body is {LIMIT + 1} bytes; the limit is {LIMIT} bytes"
        )
        streamed = client.post(url, content=iter([b"x" * LIMIT, b"x"]))  # no Content-Length
        assert (streamed.status_code, streamed.json()["limit_bytes"]) == (413, LIMIT)
        assert streamed.headers["content-type"] == "application/problem+json"
        assert "x-request-id" in streamed.headers
        broken = client.post(url, content=b"boom")
        assert (broken.status_code, broken.json()["title"]) == (
            500,
            "Internal Server Error",
        )
    with TestClient(app) as client, pytest.raises(RuntimeError, match="a bug in the endpoint"):
        client.post(url, content=b"boom")  # raised again to the server, as the stack does
    text = generate_latest(metrics.registry).decode()
    route = "/v1/models/{name}/versions/{ref}/echo"
    for status, count in (("200", 2), ("413", 2), ("500", 2)):
        labels = f'method="POST",route="{route}",status="{status}"'
        assert f"aesvc_http_requests_total{{{labels}}} {count}.0" in text
        assert (
            f'aesvc_inference_requests_total{{operation="encode",status="{status}"}} {count}.0'
            in text
        )


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "service.access"]


def test_a_hot_request_writes_one_access_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="service.access")
    caplog.handler.addFilter(RequestIdFilter())  # as service.logs does: the id on each line
    reached: list[tuple[str, str]] = []
    app, _ = fast_app(tmp_path, reached=reached)
    url = "/v1/models/m/versions/latest/echo"
    with TestClient(app) as client:
        assert client.post(url, content=b"a", headers={"X-Request-ID": "trace-1"}).is_success
        too_large = client.post(url, content=b"x" * (LIMIT + 1))
    assert reached == []  # both answered by the fast path
    ok, refused = access_records(caplog)
    route = "/v1/models/{name}/versions/{ref}/echo"
    for record, status, request_id in (
        (ok, 200, "trace-1"),
        (refused, 413, too_large.headers["x-request-id"]),
    ):
        assert record.levelno == logging.INFO
        assert record.getMessage() == f"POST {url} {status}"
        fields = vars(record)  # request_id: stamped by the filter, from the request's context
        assert {k: fields[k] for k in ("method", "path", "route", "status", "request_id")} == {
            "method": "POST",
            "path": url,
            "route": route,
            "status": status,
            "request_id": request_id,
        }
        assert fields["duration_ms"] >= 0


def test_no_access_line_is_made_when_the_access_log_is_above_info(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.WARNING, logger="service.access")
    calls: list[object] = []
    real_info = access_log.info

    def spied_info(*args: Any, **kwargs: Any) -> None:
        calls.append(args)
        real_info(*args, **kwargs)

    monkeypatch.setattr(access_log, "info", spied_info)
    app, _ = fast_app(tmp_path, reached=[])
    with TestClient(app) as client:
        assert client.post("/v1/models/m/versions/latest/echo", content=b"a").is_success
    assert access_records(caplog) == []
    assert calls == []  # log_access returned before building the line


def test_a_route_that_needs_fastapi_is_refused() -> None:
    router = APIRouter(prefix="/v1/models/{name}/versions/{ref}")

    @router.post("/with-query")
    async def with_query(name: str, ref: str, request: Request, limit: int = 1) -> Response:
        return Response(str(limit))

    with pytest.raises(ValueError, match="with-query cannot take the fast path"):
        InferenceFastPath(FastAPI(), routes=router.routes, app_dependencies=[], **OPTIONS)


def test_an_app_dependency_other_than_authorize_is_refused() -> None:
    def audit() -> None:
        pass

    routes = direct_router().routes
    InferenceFastPath(FastAPI(), routes=routes, app_dependencies=[Depends(authorize)], **OPTIONS)
    with pytest.raises(ValueError, match="calls only `authorize`"):
        InferenceFastPath(FastAPI(), routes=routes, app_dependencies=[Depends(audit)], **OPTIONS)


@pytest.mark.parametrize("on", [True, False])
def test_the_fast_path_is_a_switch_and_the_routes_answer_alike(data_dir: Path, on: bool) -> None:
    """AESVC_INFERENCE_FAST_PATH=false: the v1 inference routes go through the middleware
    stack like every other route, with the same answers, ids and metrics."""
    from fastapi.testclient import TestClient as Client

    from service.main import create_app
    from tests.inference.conftest import DIGITS, settings_for

    app = create_app(settings_for(data_dir, inference_fast_path=on), start_workers=False)
    assert (app.fast_path is not None) == on  # type: ignore[attr-defined]
    with Client(app) as client:
        path = "/v1/models/digits-ae/versions/1/encode"
        response = client.post(path, json={"inputs": DIGITS[:2].tolist()})
        assert response.status_code == 200 and len(response.json()["codings"]) == 2
        assert response.headers["x-request-id"]
        bad = client.post(path, json={"inputs": [[1.0]]})
        assert bad.status_code == 422 and bad.headers["content-type"].startswith(
            "application/problem+json"
        )
        assert 'operation="encode"' in client.get("/metrics").text


def test_an_access_line_keeps_the_start_of_a_long_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 60 KB path (the head limit allows 64 KiB) wrote 120 KB of log a request."""
    caplog.set_level(logging.INFO, logger="service.access")
    app, _ = fast_app(tmp_path, reached=[])
    long = f"/v1/models/{'m' * 60_000}/versions/latest/echo"
    with TestClient(app) as client:
        assert client.post(long, content=b"a").status_code == 200
    (record,) = access_records(caplog)
    assert record.getMessage().startswith(f"POST {long[:1000]}")
    assert len(record.getMessage()) < 1200 and len(vars(record)["path"]) < 1100
    assert vars(record)["path"].endswith(f"...({len(long)} characters)")
