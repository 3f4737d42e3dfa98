"""API keys and scopes.

A key reads `aesvc_<key id>_<secret>`; only the sha256 of the secret is stored (the
secret is 256 random bits, so a slow hash adds nothing). Every route needs exactly one
scope, derived from its tag and method by `required_scope`; a route whose tag is not
in the table makes `required_scope` raise, and the route-table test fails.

Scopes: read (GET), infer (inference, /v2), train (datasets, jobs), admin (aliases,
deletes, imports, keys, loading and unloading versions through /v2/repository). `admin`
holds every other scope too.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.database import Base, UTCDateTime, utcnow
from service.errors import ServiceError

SCOPES = ("read", "infer", "train", "admin")
PUBLIC = "public"
KEY_PREFIX = "aesvc_"
# tag -> scope for writes (GETs need `read`, except where the tag says otherwise)
WRITE_SCOPE_BY_TAG = {
    "datasets": "train",
    "jobs": "train",
    "batch-jobs": "train",
    "sweeps": "train",
    "models": "admin",
    "keys": "admin",
    "oip-repository": "admin",  # /v2/repository/models/{m}/load and unload
}
# "ui": the dashboard page and its static files, the same for everyone and without data
# (a browser cannot send a header when it opens a page; the page sends the key itself)
ALWAYS_SCOPE_BY_TAG = {
    "health": PUBLIC,
    "metrics": PUBLIC,
    "ui": PUBLIC,
    "inference": "infer",
    "oip": "infer",
    "docs": "read",  # /openapi.json where AESVC_PUBLIC_DOCS is off (service.docs)
}
READ_METHODS = {"GET", "HEAD"}


MAX_KEY_NAME = 128


class ApiKey(Base):
    __tablename__ = "api_key"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_KEY_NAME))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Unauthorized(ServiceError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers["WWW-Authenticate"] = 'Bearer realm="aesvc"'


class Forbidden(ServiceError):
    status, title, slug = 403, "Forbidden", "forbidden"


class UnknownRouteScope(LookupError):
    pass


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def required_scope(tags: list[str], method: str, path: str = "") -> str:
    """The scope a route needs, from its first tag and its method."""
    if not tags:
        raise UnknownRouteScope(f"route {method} {path} has no tag, so no scope")
    tag = str(tags[0])
    if tag in ALWAYS_SCOPE_BY_TAG:
        return ALWAYS_SCOPE_BY_TAG[tag]
    if tag not in WRITE_SCOPE_BY_TAG:
        raise UnknownRouteScope(f"route {method} {path}: tag {tag!r} has no scope")
    if method.upper() == "DELETE":  # every delete, a dataset's as a model's
        return "admin"
    return "read" if method.upper() in READ_METHODS else WRITE_SCOPE_BY_TAG[tag]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(*, session: Session, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """Returns the row and the full key, which is shown once and never stored."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {', '.join(SCOPES)}; got {scopes}")
    if len(name) > MAX_KEY_NAME:  # the column's width: PostgreSQL refuses a longer one
        raise ValueError(f"--name holds at most {MAX_KEY_NAME} characters, not {len(name)}")
    key_id, secret = uuid.uuid4().hex[:12], secrets.token_urlsafe(32)
    row = ApiKey(id=key_id, name=name, secret_sha256=_hash(secret), scopes=sorted(set(scopes)))
    session.add(row)
    session.commit()
    return row, f"{KEY_PREFIX}{key_id}_{secret}"


def list_keys(*, session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_key(*, session: Session, key_id: str) -> bool:
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.commit()
    return True


def verify_key(*, session: Session, presented: str) -> Principal | None:
    if not presented.startswith(KEY_PREFIX):
        return None
    key_id, _, secret = presented[len(KEY_PREFIX) :].partition("_")
    if not key_id or not secret:
        return None
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_sha256, _hash(secret)):
        return None
    return Principal(key_id=row.id, name=row.name, scopes=frozenset(row.scopes))


def key_is_active(factory: Any, key_id: str) -> bool:
    """The key exists and is not revoked (an open event stream checks now and then)."""
    with factory() as session:
        row = session.get(ApiKey, key_id)
        return row is not None and row.revoked_at is None


def _verify(factory: Any, presented: str) -> Principal | None:
    with factory() as session:
        return verify_key(session=session, presented=presented)


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


async def authorize(request: Request) -> None:
    """App-wide dependency: the route's scope, checked against the caller's key.

    Async, so that an open or public route costs no threadpool hop; the key lookup (a
    primary-key read, so that a revocation holds at once) runs in the threadpool.
    """
    state = request.scope.setdefault("state", {})
    if state.get(AUTHORIZED):  # at its body's first read (AuthorizeBeforeBody)
        return
    state[AUTHORIZED] = True
    ctx = request.app.state.ctx
    scope = route_scope(request.scope.get("route"), request.method)
    if scope == PUBLIC:
        return
    if ctx.settings.auth == "disabled":
        if ctx.rate_limiter is not None:
            ctx.rate_limiter.take(request, request.client.host if request.client else "-")
        return
    key = presented_key(request)
    if key is None:
        raise Unauthorized("an API key is required: send `Authorization: Bearer <key>`")
    principal = await run_in_threadpool(_verify, ctx.session_factory, key)
    if principal is None:
        raise Unauthorized("the API key is unknown or revoked")
    if not principal.allows(scope):
        raise Forbidden(f"this key lacks the {scope!r} scope (it has {sorted(principal.scopes)})")
    request.state.principal = principal
    if ctx.rate_limiter is not None:
        ctx.rate_limiter.take(request, principal.key_id)


AUTHORIZED = "aesvc_authorized"


class RefusedBeforeBody(HTTPException):
    """What `authorize` raised from a body's read (a refusal, the database unreachable):
    FastAPI re-raises an HTTPException met while it reads a body and turns anything else
    into its own 400; its handler answers `error` as the app answers that error."""

    def __init__(self, error: Exception) -> None:
        super().__init__(getattr(error, "status", 500), str(error))
        self.error = error


class AuthorizeBeforeBody:
    """`authorize` at a routed request's first read of its body. FastAPI reads and parses a
    body before it solves the route's dependencies, so the app-wide dependency alone let a
    caller without a key have its JSON parsed (a 422's detail) and its upload spooled to
    disk before the 401; a route that reads no body is checked by the dependency."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def checked() -> Message:
            # a read before routing (no route to take the scope from) is left to the dependency
            if "route" in scope and not scope.get("state", {}).get(AUTHORIZED):
                try:
                    await authorize(Request(scope))
                except Exception as exc:
                    raise RefusedBeforeBody(exc) from exc
            return await receive()

        await self.app(scope, checked, send)


def route_scope(route: Any, method: str) -> str:
    """required_scope of the route's tags, kept on the route (tags do not change)."""
    known: dict[str, str] | None = getattr(route, "_aesvc_scopes", None)
    if known is not None and method in known:
        return known[method]
    tags = [str(t) for t in getattr(route, "tags", None) or []]
    scope = required_scope(tags, method, getattr(route, "path", ""))
    if route is not None:
        if known is None:
            known = route._aesvc_scopes = {}
        known[method] = scope
    return scope


def caller_allows(request: Request, scope: str) -> bool:
    """Whether the request's key holds `scope` (every request may, with auth disabled)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal is None or principal.allows(scope)


def actor_of(request: Request) -> str | None:
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal.name if principal else None


def key_id_of(request: Request) -> str | None:
    """The caller's key id; None where authentication is off (or the route is public)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal.key_id if principal else None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
