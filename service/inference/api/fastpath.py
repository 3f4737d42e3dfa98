"""The hot inference routes, from the front of the app straight to their endpoints: the
request id, body limit, metrics, `authorize` and error handlers done in one place, since the
generic stack costs a one-row encode more CPU than the batch (docs/inference.md)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.convertors import StringConvertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import handler_for
from service.guard import RequestGuard
from service.limits import CountedBody, declared_too_large
from service.metrics import ServiceMetrics
from service.request_id import HEADER, current_request_id, log_access, request_id_from
from service.security import authorize

DIRECT_PARAMS = {"name", "ref"}


class FastPathApp(FastAPI):
    """A FastAPI app with `fast_path` (when set) in front of its middleware stack, and the
    request guard `front` (when set) in front of both. The fast path asks the guard itself
    (its checks and headers, no send wrapper) for the requests it serves."""

    fast_path: Callable[[ASGIApp], InferenceFastPath] | None = None
    front: Callable[[ASGIApp], RequestGuard] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        guard = None if self.front is None else self.front(stack)
        if self.fast_path is None:
            return stack if guard is None else guard
        fast = self.fast_path(stack if guard is None else guard)
        fast.guard = guard
        return fast


class InferenceFastPath:
    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Iterable[BaseRoute],
        app_dependencies: Sequence[Any],
        metrics: ServiceMetrics,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.guard: RequestGuard | None = None  # set by FastPathApp where it has one
        self.routes = [r for r in routes if isinstance(r, APIRoute)]
        others = [d for d in app_dependencies if getattr(d, "dependency", None) is not authorize]
        if others:
            raise ValueError(f"the fast path calls only `authorize`, not {others}")
        for route in self.routes:
            _check_direct(route)
        self.prefix = os.path.commonpath([r.path_format.split("{")[0] for r in self.routes])
        self.metrics = metrics
        self.limit = max_body_bytes  # none of these routes is the upload route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = scope["type"] == "http" and scope["method"] == "POST"
        if hot and scope["path"].startswith(self.prefix):
            path = get_route_path(scope)
            for route in self.routes:  # what route.matches does for str params, leaner
                found = route.path_regex.match(path)
                if found is not None:
                    scope["endpoint"] = route.endpoint
                    scope["path_params"] = found.groupdict()
                    scope["route"] = route
                    await self._serve(route, scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _serve(self, route: APIRoute, scope: Scope, receive: Receive, send: Send) -> None:
        if self.guard is not None:
            refusal = self.guard.refusal(scope)
            if refusal is not None:
                refusal.raw_headers.extend(self.guard.headers_for(scope))
                await refusal(scope, receive, send)
                return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        request_id = request_id_from(headers.get(HEADER))
        token = current_request_id.set(request_id)
        status = 500
        try:
            response, unexpected = await self._respond(route, scope, receive, declared)
            status = response.status_code
            response.raw_headers.append((HEADER, request_id.encode()))
            if self.guard is not None:
                response.raw_headers.extend(self.guard.headers_for(scope))
            await response(scope, receive, send)
            if unexpected is not None:
                raise unexpected  # answered 500 already; the server logs it, as for any route
        finally:
            seconds = time.perf_counter() - started
            self.metrics.record_request(route.path, "POST", status, seconds, route.operation_id)
            log_access("POST", scope["path"], route.path, status, seconds)
            current_request_id.reset(token)

    async def _respond(
        self, route: APIRoute, scope: Scope, receive: Receive, declared: bytes | None
    ) -> tuple[Response, Exception | None]:
        refusal = declared_too_large(declared, scope, self.limit)
        if refusal is not None:
            return refusal, None
        request = Request(scope, CountedBody(receive, self.limit))
        try:
            await authorize(request)
            return await route.endpoint(request=request, **scope["path_params"]), None
        except Exception as exc:
            handler = handler_for(scope["app"], exc)
            if handler is not None:
                return await handler(request, exc), None
            handlers = scope["app"].exception_handlers  # else ServerErrorMiddleware's
            fallback = handlers.get(500) or handlers.get(Exception)
            if fallback is None:
                raise
            return await fallback(request, exc), exc


def _check_direct(route: APIRoute) -> None:
    """Only an endpoint that FastAPI would call with nothing but str path params and the
    request can be called directly; anything more would skip its validation."""
    d = route.dependant
    direct = (
        {p.name for p in d.path_params} == DIRECT_PARAMS
        and not (d.query_params or d.header_params or d.cookie_params or d.body_params)
        and not d.dependencies
        and not any(p.field_info.metadata for p in d.path_params)
        # path_regex's groups as they are: str params only (starlette converts no other)
        and all(type(c) is StringConvertor for c in route.param_convertors.values())
        and d.request_param_name is not None
        and route.methods == {"POST"}
    )
    if not direct:
        raise ValueError(f"{route.path} cannot take the fast path: its endpoint needs FastAPI")
