"""Problem details (RFC 9457) for every error the API returns.

Domain code raises a `ServiceError` subclass; one handler turns it into problem+json.
Validation errors name the field; an unexpected exception is logged with its trace and
answered with a bare 500 that reveals nothing.
"""

from __future__ import annotations

import errno
import inspect
import itertools
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from service.database import first_line, is_database_unavailable
from service.zoo.spec import ARCHITECTURES

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://autoencoder-service.dev/problems/"


class ServiceError(Exception):
    status = 500
    title = "Internal Server Error"
    slug = "internal"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        """`code`: the cause, stable for clients to branch on (`model_not_found`); the
        class's kind (`not_found`) where one cause is all it has."""
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}
        if code is not None:
            self.slug = code.replace("_", "-")


class BadRequest(ServiceError):
    status, title, slug = 400, "Bad Request", "bad-request"


class NotFound(ServiceError):
    status, title, slug = 404, "Not Found", "not-found"


class Conflict(ServiceError):
    status, title, slug = 409, "Conflict", "conflict"


class Gone(ServiceError):
    status, title, slug = 410, "Gone", "gone"


class PreconditionFailed(ServiceError):
    status, title, slug = 412, "Precondition Failed", "etag-mismatch"


class PayloadTooLarge(ServiceError):
    status, title, slug = 413, "Content Too Large", "payload-too-large"


class UnsupportedMediaType(ServiceError):
    status, title, slug = 415, "Unsupported Media Type", "unsupported-media-type"


class Unprocessable(ServiceError):
    """A well-formed request whose content is wrong; `field` names where."""

    status, title, slug = 422, "Unprocessable Content", "validation"

    def __init__(
        self,
        field: str | Sequence[str | int],
        detail: str,
        *,
        code: str | None = None,
        **extra: Any,
    ) -> None:
        name = field if isinstance(field, str) else ".".join(str(p) for p in field)
        item = {"field": name, "message": detail, "type": code or "value_error"}
        super().__init__(f"{name}: {detail}", code=code, errors=[item], **extra)
        self.field = name


class ServiceUnavailable(ServiceError):
    status, title, slug = 503, "Service Unavailable", "unavailable"

    def __init__(self, detail: str, *, retry_after_s: int = 1, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["Retry-After"] = str(retry_after_s)


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached (down, restarting, pool exhausted): try again soon."""

    slug = "database-unavailable"
    retry_after_s = 5

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(
            detail
            or "the database is unavailable (unreachable, restarting or out of connections); "
            f"retry in {self.retry_after_s} s",
            retry_after_s=self.retry_after_s,
        )


class InsufficientStorage(ServiceError):
    """The artifact store (or the upload spool) has no space left: nothing was stored."""

    status, title, slug = 507, "Insufficient Storage", "insufficient-storage"


class FieldError(BaseModel):
    """One wrong field of a 422."""

    field: str = Field(description="Dotted path: `architecture.code_size`, `inputs.3`")
    pointer: str = Field(
        description="The same path as a JSON Pointer (RFC 6901): `/architecture/code_size`"
    )
    message: str
    type: str = Field(description="The check that failed: `greater_than_equal`, `missing`, ...")


class Problem(BaseModel):
    """The body of every error answer (RFC 9457 problem+json); a 422 adds `errors`."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI per cause; the last segment is `code` in kebab-case")
    code: str = Field(
        description="The cause, stable across releases: branch on this, not on `detail` "
        "(`model_not_found`, `dataset_in_use`, `idempotency_key_reused`, ...)"
    )
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_STATUSES = {
    400: "A malformed request",
    401: "No API key, or an unknown or revoked one",
    403: "The key lacks the operation's scope, or a cross-site request",
    404: "No such resource",
    409: "Conflicts with the resource's current state",
    410: "The resource is archived",
    412: "If-Match named an ETag the resource no longer has",
    413: "The body, or a part of it, is over the limit",
    415: "Unsupported content type",
    422: "A field is missing, malformed or out of range (`errors` names it)",
    429: "Over the caller's rate limit, or too many open event streams; see Retry-After",
    500: "An unexpected error; it has been logged",
    503: "Not available now (a full queue, the database unreachable); see Retry-After",
    504: "Not answered in time",
    507: "No space left in the artifact store; nothing was stored",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: these statuses, each with a problem+json body."""
    return {
        status: {
            "description": PROBLEM_STATUSES[status],
            "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
        }
        for status in statuses
    }


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Add `Problem` to the OpenAPI components, and give FastAPI's own 422 (declared on
    every route with parameters) the problem+json body the handler really sends."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            invalid = operation.get("responses", {}).get("422", {})
            if "application/json" in invalid.get("content", {}):
                invalid.update(problem_responses(422)[422])
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def handler_for(app: FastAPI, exc: Exception) -> Callable[..., Any] | None:
    """The app's handler for `exc` as its ExceptionMiddleware picks it, by class (a handler
    for Exception itself is ServerErrorMiddleware's, for what nothing else handles)."""
    classes = itertools.takewhile(lambda cls: cls is not Exception, type(exc).__mro__)
    return next((app.exception_handlers[c] for c in classes if c in app.exception_handlers), None)


def is_oip_path(path: str) -> bool:
    """The Open Inference Protocol's routes answer errors as {"error": "..."}."""
    return path == "/v2" or path.startswith("/v2/")


def _no_space_cause(exc: BaseException) -> OSError | None:
    """The "no space left" (or over quota) error that an exception was raised from."""
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "code": slug.replace("-", "_"),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    if "errors" in body:
        # a pointer set by the raiser wins: a key holding dots (a sweep's `grid`) is one
        # segment of the pointer, not several
        body["errors"] = [{"pointer": json_pointer(e["field"]), **e} for e in body["errors"]]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def json_pointer(field: str) -> str:
    """`architecture.code_size` -> `/architecture/code_size` (RFC 6901 escapes)."""
    if field == "body":
        return ""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in field.split("."))


def _field_parts(loc: Sequence[str | int]) -> list[str]:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "form"):
        parts = parts[1:] or parts
    return parts


def _field_name(loc: Sequence[str | int]) -> str:
    return ".".join(_field_parts(loc)) or "body"


def _pointer(loc: Sequence[str | int]) -> str:
    """From the loc's own parts: a key holding dots stays one segment."""
    parts = _field_parts(loc)
    if parts in ([], ["body"]):
        return ""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


_AUTO_BRANCH = "str-enum[Auto]"
_BUILTIN_TAGS = {"int", "float", "str", "bool", "none", "list", "dict"}
_CONSTRAINED = "constrained-"  # pydantic's tag for an Annotated member with bounds


def _is_union_tag(part: str | int) -> bool:
    """The member of a union that pydantic names in a loc (`Denoising`, `list[...]`,
    `str-enum[Auto]`, `constrained-float`): never a field name, which is snake_case."""
    text = str(part)
    return (
        "[" in text or text[:1].isupper() or text in _BUILTIN_TAGS or text.startswith(_CONSTRAINED)
    )


def without_union_tags(loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """A validation error's loc without the members pydantic names in it: the type tags
    (`Denoising`, `constrained-float`) and the `kind` of a discriminated architecture
    (`architecture.dense.code_size` is the field `architecture.code_size`)."""
    kept: list[str | int] = []
    for part in loc:
        if _is_union_tag(part) or (kept[-1:] == ["architecture"] and part in ARCHITECTURES):
            continue
        kept.append(part)
    return tuple(kept)


def error_loc(error: Any) -> tuple[str | int, ...]:
    """Where a pydantic error lies, without union tags; a discriminated union's unknown or
    missing tag is the discriminator's own field (`architecture.kind`, `space.x.type`)."""
    raw = tuple(error.get("loc", ()))
    loc = without_union_tags(raw)
    if error.get("type") == "extra_forbidden" and raw:
        # the unknown key is the caller's own spelling ("N", "Training"), never a union tag
        loc = (*without_union_tags(raw[:-1]), raw[-1])
    tag = str((error.get("ctx") or {}).get("discriminator", "")).strip("'")
    if error.get("type") in ("union_tag_invalid", "union_tag_not_found") and tag.isidentifier():
        loc = (*loc, tag)
    return loc


def error_message(error: Any) -> str:
    """pydantic's message, or what a field foreign to its architecture's kind means."""
    loc = list(error.get("loc", ()))
    if error.get("type") == "extra_forbidden":
        for before, kind in itertools.pairwise(loc):
            if before == "architecture" and kind in ARCHITECTURES:
                return f"kind '{kind}' has no field {loc[-1]!s}: {_KIND_FIELDS}"
    return str(error.get("msg", "invalid"))


_KIND_FIELDS = (
    "each architecture kind takes its own fields (tied_weights: dense only; hidden_sizes: "
    "dense and vae; conv_channels: conv and conv_vae; linear: code_size only)"
)


# A 422 names at most this many errors: a body of many bad values (one error each) is
# answered with its first ones, in time linear in the body, not the errors' square.
MAX_ERRORS = 100


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    raw = list(exc.errors())
    # A field that takes a value or "auto": the value's own error is the one to show.
    has_value_error = {
        without_union_tags(e.get("loc", ())) for e in raw if _AUTO_BRANCH not in e.get("loc", ())
    }
    any_auto = any(_AUTO_BRANCH in e.get("loc", ()) for e in raw)
    errors: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str, str]] = set()
    for error in raw:
        # A body that is not JSON at all: FastAPI's loc holds the byte offset, not a field.
        loc = ("body",) if error.get("type") == "json_invalid" else error.get("loc", ())
        # union tags live in bodies; a header's name may start with a capital
        in_body = tuple(loc[:1]) == ("body",)
        field = error_loc({**error, "loc": loc}) if in_body else tuple(loc)
        message = error_message(error)
        if _AUTO_BRANCH in loc:
            if field in has_value_error:
                continue
        elif len(field) < len(loc) and any_auto:
            message += ' (or "auto")'
        item: dict[str, Any] = {
            "field": _field_name(field),
            "pointer": _pointer(field),
            "message": message,
            "type": error.get("type", "value_error"),
        }
        key = (item["field"], item["pointer"], message, item["type"])
        if key not in seen:
            seen.add(key)
            errors.append(item)
            if len(errors) == MAX_ERRORS:
                break
    return errors


def _unstorable(request: Request, exc: Exception) -> Unprocessable:
    """The parameter that holds a NUL character, where one does (PostgreSQL's text cannot);
    else the body."""
    params = {**request.path_params, **request.query_params}
    field = next((k for k, v in params.items() if "\x00" in str(v)), "body")
    return Unprocessable(
        field,
        "holds a value the database cannot store (a NUL character, or a number out of its "
        f"range): {first_line(exc)}",
    )


def _reply(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """problem+json; under /v2 the protocol's {"error": ...} (400 for a bad request)."""
    if is_oip_path(request.url.path):
        return JSONResponse({"error": detail}, 400 if status == 422 else status, headers=headers)
    path = request.url.path
    return problem_response(
        status, title, detail, slug=slug, instance=path, headers=headers, **extra
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        if is_oip_path(request.url.path):  # an API key or database error on /v2: OIP's body
            return JSONResponse({"error": exc.detail}, exc.status, headers=exc.headers or None)
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            slug=exc.slug,
            instance=request.url.path,
            headers=exc.headers or None,
            **exc.extra,
        )

    from service.security import RefusedBeforeBody  # security imports this module

    @app.exception_handler(RefusedBeforeBody)
    async def _refused(request: Request, exc: RefusedBeforeBody) -> Response:
        error = exc.error
        handler = handler_for(app, error)
        if handler is None:  # a bug: the 500 any unexpected error gets
            return await _unexpected(request, error)
        answer = handler(request, error)  # the app's handlers here are all async
        return await answer if inspect.isawaitable(answer) else answer

    # DBAPIError and the pool's TimeoutError: the database is down or restarting (503 +
    # Retry-After, and the request may be repeated), or else a bug (500).
    @app.exception_handler(sa_exc.DBAPIError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, sa_exc.DataError):  # PostgreSQL: a NUL in text, a number too big
            return await _service_error(request, _unstorable(request, exc))
        if not is_database_unavailable(exc):
            return await _unexpected(request, exc)
        log.warning(
            "database unavailable on %s %s: %s", request.method, request.url.path, first_line(exc)
        )
        return await _service_error(request, DatabaseUnavailable())

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        first = errors[0] if errors else {"field": "body", "message": "invalid", "type": "invalid"}
        return _reply(
            request,
            422,
            "Unprocessable Content",
            f"{first['field']}: {first['message']}",
            slug="validation",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        full = _no_space_cause(exc)
        if full is not None:  # FastAPI's 400 for a body it could not spool (a full TMPDIR)
            folder = getattr(full, "filename", None) or tempfile.gettempdir()
            reason = os.strerror(full.errno or errno.ENOSPC)
            return _reply(
                request,
                InsufficientStorage.status,
                InsufficientStorage.title,
                f"no space left in {folder} (TMPDIR, where uploads are spooled while they "
                f"arrive): {reason}; nothing was stored. Free space there, or point TMPDIR "
                "at a larger disk, then retry",
                slug=InsufficientStorage.slug,
            )
        titles = {
            400: "Bad Request",
            401: "Unauthorized",
            404: "Not Found",
            405: "Method Not Allowed",
        }
        return _reply(
            request,
            exc.status_code,
            titles.get(exc.status_code, "Error"),
            str(exc.detail),
            slug=f"http-{exc.status_code}",
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _reply(
            request,
            500,
            "Internal Server Error",
            "an unexpected error occurred; it has been logged",
            slug="internal",
        )
