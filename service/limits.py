"""Request body limits, enforced while the body streams in (never read whole first)."""

from __future__ import annotations

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


class BodyLimitMiddleware:
    """413 past the limit: from Content-Length at once, else while counting the stream."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    def limit_for(self, scope: Scope) -> int:
        is_upload = scope["method"] == "POST" and scope["path"].rstrip("/") == "/v1/datasets"
        return self.max_upload_bytes if is_upload else self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            detail = f"the body is {int(declared)} bytes; the limit is {limit} bytes"
            await too_large(scope, detail, limit)(scope, receive, send)
            return
        received = 0
        exceeded = started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise PayloadTooLarge(
                        f"the body is over the limit of {limit} bytes", limit_bytes=limit
                    )
            return message

        async def guarded_send(message: Message) -> None:
            # FastAPI turns any error while parsing a body into its own 400, so once the
            # limit is passed the app's answer is dropped and the 413 below sent instead.
            nonlocal started
            if exceeded and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            detail = f"the body is over the limit of {limit} bytes"
            await too_large(scope, detail, limit)(scope, receive, send)
