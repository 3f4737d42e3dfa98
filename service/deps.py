"""FastAPI dependencies as Annotated aliases, shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service.artifacts import ArtifactStore
from service.config import Settings
from service.context import AppContext
from service.errors import UnsupportedMediaType


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_session(ctx: ContextDep, request: Request) -> Iterator[Session]:
    # Service functions commit their own units of work; anything left open is rolled back.
    writes = request.method not in ("GET", "HEAD", "OPTIONS")
    session = (ctx.write_session_factory if writes else ctx.session_factory)()
    try:
        yield session
    finally:
        try:
            session.rollback()
            session.close()
        except DBAPIError:
            # The connection died under the session (the database stopping): there is
            # nothing left to roll back on it. Dropped, not raised: the answer may have
            # gone out already, and an error now would cut the client's connection.
            session.invalidate()


def get_settings(ctx: ContextDep) -> Settings:
    return ctx.settings


def get_store(ctx: ContextDep) -> ArtifactStore:
    return ctx.store


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ArtifactStore, Depends(get_store)]


# SQL OFFSET is a 64-bit integer (SQLite INTEGER, PostgreSQL BIGINT): past it, a 422
# here rather than an overflow in the driver.
MAX_OFFSET = 2**63 - 1
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


def get_actor(request: Request) -> str | None:
    """The name of the API key making the request (None while auth is disabled)."""
    from service.security import actor_of

    return actor_of(request)


ActorDep = Annotated[str | None, Depends(get_actor)]


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def require_json(request: Request) -> None:
    """415 for a JSON-body route sent another type (FastAPI would answer 422 'not an
    object'); no type at all is read as JSON, as FastAPI does."""
    kind = _media_type(request)
    is_json = kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )
    if kind and not is_json:
        raise UnsupportedMediaType(
            f"content type {kind!r} is not supported here; send application/json"
        )


def require_multipart(request: Request) -> None:
    """415 for an upload route sent anything but a multipart form (FastAPI would answer
    422 'file: Field required')."""
    kind = _media_type(request)
    if kind != "multipart/form-data":
        raise UnsupportedMediaType(
            f"content type {kind or '(none)'!r} is not supported here; send multipart/form-data"
        )


JsonBody = Depends(require_json)
MultipartBody = Depends(require_multipart)
