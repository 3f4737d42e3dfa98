"""The inference fast path: it serves exactly the routes it may call directly, passes
everything else through, and refuses (when the app is built) what it would skip."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from service.config import Settings
from service.inference.fastpath import InferenceFastPath
from service.security import authorize


def direct_router() -> APIRouter:
    router = APIRouter(prefix="/v1/models/{name}/versions/{ref}", tags=["inference"])

    @router.post("/echo")
    async def echo(name: str, ref: str, request: Request) -> Response:
        return Response(f"{name}@{ref}:{(await request.body()).decode()}")

    return router


class Recorder:
    """Just inside the fast path: records each request that reaches the app's router."""

    def __init__(self, app: Any, *, paths: list[tuple[str, str]]) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.paths.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


def test_matching_posts_skip_the_router_and_the_rest_pass_through(tmp_path: Path) -> None:
    router = direct_router()
    app = FastAPI(dependencies=[Depends(authorize)])
    app.state.ctx = SimpleNamespace(settings=Settings(data_dir=tmp_path, auth="disabled"))
    app.include_router(router)
    reached: list[tuple[str, str]] = []
    app.add_middleware(Recorder, paths=reached)
    app.add_middleware(
        InferenceFastPath, routes=router.routes, app_dependencies=app.router.dependencies
    )
    with TestClient(app) as client:
        answer = client.post("/v1/models/m/versions/latest/echo", content=b"hello")
        assert (answer.status_code, answer.text) == (200, "m@latest:hello")
        assert reached == []  # served without the router
        assert client.get("/v1/models/m/versions/latest/echo").status_code == 405
        assert client.post("/v1/models/m/versions/latest/other").status_code == 404
    assert reached == [
        ("GET", "/v1/models/m/versions/latest/echo"),
        ("POST", "/v1/models/m/versions/latest/other"),
    ]


def test_a_route_that_needs_fastapi_is_refused() -> None:
    router = APIRouter(prefix="/v1/models/{name}/versions/{ref}")

    @router.post("/with-query")
    async def with_query(name: str, ref: str, request: Request, limit: int = 1) -> Response:
        return Response(str(limit))

    with pytest.raises(ValueError, match="with-query cannot take the fast path"):
        InferenceFastPath(FastAPI(), routes=router.routes, app_dependencies=[])


def test_an_app_dependency_other_than_authorize_is_refused() -> None:
    def audit() -> None:
        pass

    routes = direct_router().routes
    InferenceFastPath(FastAPI(), routes=routes, app_dependencies=[Depends(authorize)])
    with pytest.raises(ValueError, match="calls only `authorize`"):
        InferenceFastPath(FastAPI(), routes=routes, app_dependencies=[Depends(audit)])
