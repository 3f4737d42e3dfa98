"""X-Request-ID: taken from the request (when sane) or made, echoed in the response, and
stamped on every log line written while the request is handled; one access line each."""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
access_log = logging.getLogger("service.access")
# A made id: 20 random hex digits for this process, then a 12-digit counter (32 in all, as
# a uuid4's hex). Unique across processes and restarts, without a system call per request.
_PROCESS = secrets.token_hex(10)
_COUNTER = itertools.count()


def new_request_id() -> str:
    return f"{_PROCESS}{next(_COUNTER) & 0xFFFFFFFFFFFF:012x}"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id.get()
        return True


def request_id_from(given: bytes | None) -> str:
    """The client's X-Request-ID when it is sane (it goes into log lines), else a new one."""
    if given is not None:
        text = given.decode("latin-1")
        if SANE_ID.match(text):
            return text
    return new_request_id()


# The most of a path an access line keeps: a request head may hold a 64 KiB path, which the
# line writes twice (its message and its `path` field).
LOGGED_PATH_CHARS = 1024


def log_access(method: str, path: str, route: str | None, status: int, seconds: float) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    if len(path) > LOGGED_PATH_CHARS:
        path = f"{path[:LOGGED_PATH_CHARS]}...({len(path)} characters)"
    access_log.info(
        "%s %s %s",
        method,
        path,
        status,
        extra={
            "method": method,
            "path": path,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
        },
    )


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(dict(scope.get("headers") or []).get(HEADER))
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message["headers"] = [*headers, (HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", None)
            seconds = time.perf_counter() - started
            log_access(scope["method"], scope["path"], route, status, seconds)
            current_request_id.reset(token)
