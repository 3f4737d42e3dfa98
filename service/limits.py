"""Request body limits, enforced while the body streams in (never read whole first)."""

from __future__ import annotations

import re

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PayloadTooLarge, is_oip_path, problem_response


def too_large(scope: Scope, detail: str, limit: int) -> Response:
    """The 413: problem+json, or under /v2 the Open Inference Protocol's {"error": ...}."""
    if is_oip_path(scope["path"]):
        return JSONResponse({"error": detail}, status_code=413)
    return problem_response(
        413,
        "Content Too Large",
        detail,
        slug="payload-too-large",
        instance=scope["path"],
        limit_bytes=limit,
    )


def declared_too_large(declared: bytes | None, scope: Scope, limit: int) -> Response | None:
    """The 413 for a Content-Length over `limit`, or None."""
    if declared is None or not declared.isdigit() or int(declared) <= limit:
        return None
    return too_large(scope, f"the body is {int(declared)} bytes; the limit is {limit} bytes", limit)


class CountedBody:
    """`receive` that refuses the body (PayloadTooLarge) once it passes `limit` bytes."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive, self.limit = receive, limit
        self.received, self.exceeded = 0, False

    async def __call__(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.exceeded = True
                detail = f"the body is over the limit of {self.limit} bytes"
                raise PayloadTooLarge(detail, limit_bytes=self.limit)
        return message


# The routes that take rows (v1 inference, v2 infer): the body limit. A dataset upload: the
# upload limit. A model import: the import limit (what the largest network the service takes
# weighs; it is read from disk a block at a time). Any other: the control limit.
ROWS_ROUTE = re.compile(
    r"/v1/models/[^/]+/versions/[^/]+/(encode|decode|reconstruct|score|generate|interpolate)"
    r"|/v2/models/[^/]+(/versions/[^/]+)?/infer"
)
IMPORT_ROUTE = re.compile(r"/v1/models/[^/]+/versions")


class BodyLimitMiddleware:
    """413 past the route's limit: from Content-Length at once, else while counting the
    stream."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_upload_bytes: int,
        max_import_bytes: int,
        max_control_bytes: int,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_import_bytes = max_import_bytes
        self.max_control_bytes = max_control_bytes

    def limit_for(self, scope: Scope) -> int:
        path = scope["path"].rstrip("/")
        if scope["method"] != "POST":
            return self.max_control_bytes
        if path == "/v1/datasets":
            return self.max_upload_bytes
        if ROWS_ROUTE.fullmatch(path):
            return self.max_body_bytes
        if IMPORT_ROUTE.fullmatch(path):
            return self.max_import_bytes
        return self.max_control_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        refusal = declared_too_large(declared, scope, limit)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        counted = CountedBody(receive, limit)
        started = False

        async def guarded_send(message: Message) -> None:
            # FastAPI turns any error while parsing a body into its own 400, so once the
            # limit is passed the app's answer is dropped and the 413 below sent instead.
            nonlocal started
            if counted.exceeded and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except Exception:
            if not counted.exceeded or started:
                raise
        if counted.exceeded and not started:
            detail = f"the body is over the limit of {limit} bytes"
            await too_large(scope, detail, limit)(scope, receive, send)
