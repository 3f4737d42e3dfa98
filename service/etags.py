"""ETags on the JSON resources of /v1, `If-None-Match` → 304, `If-Match` → 412.

A GET's ETag is the hash of the JSON it answers, so a poller that sends it back gets a
bodiless 304 until the resource changes. A write that takes `If-Match` (alias moves, model
PATCH, deletes) compares it with the ETag of the resource as it is *inside the write's
lock*: two pipelines that read the same alias and both try to move it cannot both win;
the second gets 412 and reads again.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PreconditionFailed

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The resource's ETag as last read: 412 if it changed since (or `*`: "
        "only if it exists)",
    ),
]


def etag_of_bytes(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_of(resource: Any) -> str:
    """The ETag a GET of this resource answers (the same bytes FastAPI would send)."""
    return etag_of_bytes(bytes(JSONResponse(jsonable_encoder(resource)).body))


def _tags(header: str, *, weak: bool = True) -> list[str]:
    """The header's entity tags; `weak=False` (If-Match: RFC 9110's strong comparison) drops
    the weak ones, which match nothing."""
    tags = [t.strip() for t in header.split(",") if t.strip()]
    return [t.removeprefix("W/") for t in tags if weak or not t.startswith("W/")]


def none_match(if_none_match: str | None, tag: str) -> bool:
    """Whether If-None-Match holds for `tag`, so that a read answers 304: RFC 9110's weak
    comparison (a W/ tag, as a compressing proxy hands it back, matches), or `*`."""
    if if_none_match is None:
        return False
    tags = _tags(if_none_match)
    return tag in tags or "*" in tags


def check_if_match(if_match: str | None, current: Any | None) -> None:
    """412 unless `if_match` names `current` (None: the resource does not exist)."""
    if if_match is None:
        return
    check_if_match_tags(if_match, None if current is None else [etag_of(current)])


def check_if_match_tags(if_match: str | None, current: list[str] | None) -> None:
    """412 unless `if_match` names one of the ETags the resource answers (`current`: one
    per view of it; None: the resource does not exist)."""
    if if_match is None:
        return
    tags = _tags(if_match, weak=False)
    if "*" in tags:
        if current is None:
            raise PreconditionFailed("If-Match: *: the resource does not exist")
        return
    if current is None or not set(current) & set(tags):
        raise PreconditionFailed(
            "If-Match: the resource changed since that ETag was read; GET it again, then retry"
        )


class ETagMiddleware:
    """Adds ETag to 200 JSON answers of GET /v1/...; a matching If-None-Match gets 304. An
    answer that brings its own ETag (service.json_answers: rendered ahead, maybe streamed)
    is not buffered: it passes through, or becomes the 304."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith("/v1/")
        ):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        not_modified = False  # an answer tagged by the app, matched: its body is dropped

        async def buffered(message: Message) -> None:
            nonlocal start, not_modified
            if start is None and message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                json = headers.get(b"content-type", b"").startswith(b"application/json")
                if message["status"] == 200 and json and b"etag" not in headers:
                    start = message  # hold it until the body is known
                    return
                start = {}  # not ours: pass everything through
                if message["status"] == 200 and json:  # tagged by the app
                    tag = headers[b"etag"].decode("latin-1")
                    wanted = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
                    if wanted is not None and none_match(wanted.decode("latin-1"), tag):
                        not_modified = True
                        await send(_not_modified(message["headers"]))
                        return
            if not_modified:
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    await send({"type": "http.response.body", "body": b""})
                return
            if not start or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._finish(scope, start, b"".join(chunks), send)

        await self.app(scope, receive, buffered)

    @staticmethod
    async def _finish(scope: Scope, start: Message, body: bytes, send: Send) -> None:
        tag = etag_of_bytes(body)
        wanted = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        headers.append((b"etag", tag.encode()))
        if wanted is not None and none_match(wanted.decode("latin-1"), tag):
            await send(_not_modified(headers))
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _not_modified(headers: list[tuple[bytes, bytes]]) -> Message:
    """The start of a 304: the 200's headers but its content's type and length."""
    keep = [(k, v) for k, v in headers if k not in (b"content-type", b"content-length")]
    return {"type": "http.response.start", "status": 304, "headers": keep}


def document_etags(schema: dict[str, Any], if_match_operations: set[str]) -> dict[str, Any]:
    """Declare ETag (and 304) on the JSON GETs of /v1, and 412 where If-Match is taken."""
    etag = {"description": "The resource's version, for If-None-Match / If-Match", "schema": {}}
    etag["schema"] = {"type": "string"}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.get("responses", {})
            ok = responses.get("200", {})
            if (
                method == "get"
                and path.startswith("/v1/")
                and "application/json" in ok.get("content", {})
            ):
                ok.setdefault("headers", {})["ETag"] = etag
                responses["304"] = {"description": "Not modified since the If-None-Match ETag"}
            if operation.get("operationId") in if_match_operations:
                responses["412"] = {
                    "description": "If-Match named an ETag the resource no longer has",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                }
    return schema
