"""The hot inference routes, from the middleware stack straight to their endpoints.

For a one-row encode, FastAPI's per-request machinery (its routing layers, dependency
solving, the exit stack) costs more CPU than the batcher and the forward pass together.
The v1 inference endpoints take only the path's `name` and `ref` and the raw request (they
parse their own bodies), so this middleware matches them itself and calls the endpoint:

- the inference router's own `APIRoute` objects, the ones FastAPI puts in
  `scope["route"]` (OpenAPI, metrics and the access log see no difference); the router
  is included with no prefix and no dependencies of its own (service/main.py);
- the app-wide `authorize` dependency is called explicitly, before the endpoint (any
  other app-wide dependency, or an endpoint that needs FastAPI to resolve its
  parameters, is refused when the app is built, so nothing is skipped silently);
- an error goes through the app's own exception handlers (problem+json), and one without
  a handler reaches ServerErrorMiddleware as it would through the router.

Anything else (another method on the same path included) passes through to the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from service.security import authorize

Handler = Callable[[Request, Exception], Awaitable[Response]]
DIRECT_PARAMS = {"name", "ref"}


class InferenceFastPath:
    def __init__(
        self, app: ASGIApp, *, routes: Iterable[BaseRoute], app_dependencies: Sequence[Any]
    ) -> None:
        self.app = app
        self.routes = [r for r in routes if isinstance(r, APIRoute)]
        others = [d for d in app_dependencies if getattr(d, "dependency", None) is not authorize]
        if others:
            raise ValueError(f"the fast path calls only `authorize`, not {others}")
        for route in self.routes:
            _check_direct(route)
        self.prefix = _common_prefix([r.path_format for r in self.routes])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = scope["type"] == "http" and scope["method"] == "POST"
        if hot and scope["path"].startswith(self.prefix):
            for route in self.routes:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child)
                    await self._handle(route, scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _handle(self, route: APIRoute, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            await authorize(request)
            response: Response = await route.endpoint(request=request, **scope["path_params"])
        except Exception as exc:
            handler = _handler_for(scope["app"], exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)


def _check_direct(route: APIRoute) -> None:
    """Only an endpoint that FastAPI would call with nothing but str path params and the
    request can be called directly; anything more would skip its validation."""
    dependant = route.dependant
    params = {p.name for p in dependant.path_params}
    extra = (
        dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.dependencies
    )
    constrained = [p.name for p in dependant.path_params if p.field_info.metadata]
    if params != DIRECT_PARAMS or extra or constrained or dependant.request_param_name is None:
        raise ValueError(f"{route.path} cannot take the fast path: its endpoint needs FastAPI")


def _handler_for(app: Any, exc: Exception) -> Handler | None:
    """The app's handler for exc, as ExceptionMiddleware picks it (500s are not its own)."""
    handlers: dict[Any, Handler] = app.exception_handlers
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None


def _common_prefix(paths: list[str]) -> str:
    prefix = paths[0].split("{", 1)[0] if paths else "/"
    for path in paths:
        while not path.startswith(prefix):
            prefix = prefix[:-1]
    return prefix
