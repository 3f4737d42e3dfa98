"""The Open Inference Protocol's extensions: the model repository (the index, explicit load
and unload of versions), statistics and system shared memory (register, unregister, status;
the registry is service.inference.oip.shared_memory). Errors are {"error": "..."}, 400. Its
router goes before the OIP router's: /v2/models/stats before /v2/models/{name}."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from service.context import AppContext
from service.errors import ServiceError, Unprocessable
from service.inference.api import codecs, service
from service.inference.oip.router import NO_BODY, OIP
from service.inference.oip.schemas import (
    PAGE,
    RepositoryIndexEntry,
    RepositoryIndexRequest,
    RepositoryModelRequest,
    StatisticsResponse,
    SystemSharedMemoryRegister,
    SystemSharedMemoryStatus,
)
from service.inference.oip.tensors import DECODER, OipError, OipRoute, parse_body
from service.inference.runtime.stats import VersionStats
from service.pages import make_token, read_token
from service.registry.service import get_model, ready_versions, resolve_version
from service.security import key_id_of

router = APIRouter(prefix="/v2", route_class=OipRoute)
ORDER = "name,version"
NEXT = "Next-Page-Token"  # the index answers the protocol's bare list: its token is a header
NEXT_HEADER = {
    "description": "Send as page_token for the next page; absent on the last page.",
    "schema": {"type": "string"},
}
REPOSITORY_TAGS: list[Any] = ["oip-repository"]  # admin for its writes (service.security)


def _page(
    ctx: AppContext,
    name: str | None,
    limit: int,
    token: str | None,
    scope: str,  # what the token is made for: the index's filter, or the statistics
    keep: Callable[[str, int], bool] | None = None,
) -> tuple[list[tuple[str, int]], str | None]:
    """One page of ready versions in (name, version) order, of one model (an unknown one is
    an error) or all, those `keep` says; the next page's token. Pages over the database, never
    the whole list."""
    filters = {"model": name, "page": scope}
    after = read_token(token, ORDER, filters) if token else None
    kept: list[tuple[str, int]] = []
    with ctx.session_factory() as session:
        while len(kept) <= limit:
            rows = ready_versions(session=session, name=name, after=after, limit=PAGE)
            kept += [row for row in rows if keep is None or keep(*row)]
            if len(rows) < PAGE:
                break
            after = rows[-1]
    if len(kept) <= limit:
        return kept, None
    return kept[:limit], make_token(ORDER, filters, *kept[limit - 1])


def _index(ctx: AppContext, spec: RepositoryIndexRequest) -> tuple[list[dict[str, str]], Any]:
    loaded = {(m.name, m.version) for m in ctx.inference()[1].loaded_models()}
    keep = (lambda *version: version in loaded) if spec.ready else None
    scope = "ready" if spec.ready else "all"
    versions, token = _page(ctx, None, spec.limit, spec.page_token, scope, keep)
    entries = []
    for name, version in versions:
        state, reason = ("READY", "") if (name, version) in loaded else ("UNAVAILABLE", "unloaded")
        entries.append({"name": name, "version": str(version), "state": state, "reason": reason})
    return entries, token


async def _body(request: Request, schema: type[Any], what: str) -> Any:
    """The spec lets these bodies be empty."""
    body = await request.body()
    return schema() if not body.strip() else parse_body(schema, body, what)


@router.post(
    "/repository/index",
    tags=OIP,
    operation_id="oip_repository_index",
    summary="Every ready version, and whether it is loaded (READY) or not (UNAVAILABLE)",
    response_model=list[RepositoryIndexEntry],
    responses={200: {"headers": {NEXT: NEXT_HEADER}}},
    openapi_extra=codecs.request_body(RepositoryIndexRequest),
)
async def read_repository_index(request: Request) -> Response:
    spec = await _body(request, RepositoryIndexRequest, "index request")
    entries, token = await run_in_threadpool(_index, request.app.state.ctx, spec)
    return codecs.json_response(entries, headers={NEXT: token} if token else None)


async def _parameters(request: Request, action: str, allowed: set[str]) -> dict[str, Any]:
    spec = await _body(request, RepositoryModelRequest, f"{action} request")
    unknown = sorted(set(spec.parameters) - allowed)
    if unknown:
        expected = f"expected only {sorted(allowed)}"
        raise OipError(400, f"{action} parameter {unknown[0]!r} is not supported; {expected}")
    return dict(spec.parameters)


def _post(path: str, operation_id: str, summary: str, body: Any = None, tags: Any = OIP) -> Any:
    """A POST answered by its status alone; `body`: the schema of its (optional) body."""
    return router.post(
        path,
        tags=tags,
        operation_id=operation_id,
        summary=summary,
        response_class=Response,
        responses=NO_BODY,
        openapi_extra=None if body is None else codecs.request_body(body),
    )


@contextmanager
def _failing(why: str) -> Iterator[None]:
    """A client's error (an unknown model, say) as the extensions word it: 400, `why` first;
    a page token's own 400 as it is; the service's own (a 503 to retry) keeps its status."""
    try:
        yield
    except Unprocessable:
        raise
    except ServiceError as exc:
        status = exc.status if exc.status >= 500 else 400
        raise OipError(status, f"{why}: {exc.detail}", exc.headers or None) from None


@_post(
    "/repository/models/{name}/load",
    "oip_repository_model_load",
    "Load and warm a version (parameters.version: a number or alias; latest)",
    RepositoryModelRequest,
    REPOSITORY_TAGS,
)
async def create_repository_model_load(name: str, request: Request) -> Response:
    ref = (await _parameters(request, "load", {"version"})).get("version", "latest")
    if not isinstance(ref, str | int) or isinstance(ref, bool):
        raise OipError(400, f"load parameter 'version' {ref!r} is not a number or alias")
    with _failing(f"failed to load {name!r}"):
        ctx = request.app.state.ctx
        await service.served_version(ctx, name=name.removesuffix(DECODER), ref=str(ref))
    return Response(status_code=200)


def _unload(ctx: AppContext, name: str) -> None:
    with ctx.session_factory() as session:
        get_model(session=session, name=name)  # an unknown model is an error
    ctx.inference()[1].evict(name)


@_post(
    "/repository/models/{name}/unload",
    "oip_repository_model_unload",
    "Drop every loaded version of the model from this process",
    RepositoryModelRequest,
    REPOSITORY_TAGS,
)
async def create_repository_model_unload(name: str, request: Request) -> Response:
    await _parameters(request, "unload", {"unload_dependents"})
    with _failing(f"failed to unload {name!r}"):
        await run_in_threadpool(_unload, request.app.state.ctx, name.removesuffix(DECODER))
    return Response(status_code=200)


def _get(path: str, operation_id: str, summary: str, model: Any = StatisticsResponse) -> Any:
    return router.get(
        path, tags=OIP, operation_id=operation_id, summary=summary, response_model=model
    )


def _versions(
    ctx: AppContext, name: str | None, ref: str | None, limit: int, token: str | None
) -> tuple[list[tuple[str, int]], str | None]:
    if name is None or ref is None:
        return _page(ctx, name, limit, token, "stats")
    with ctx.session_factory() as session:
        mv = resolve_version(session=session, name=name, ref=ref, allow_archived=True)
    return [(name, mv.version)], None


async def _stats(
    request: Request, name: str | None, ref: str | None, limit: int = PAGE, token: str | None = None
) -> Response:
    ctx = request.app.state.ctx
    model = name and name.removesuffix(DECODER)
    with _failing(f"no statistics for {name!r}"):
        pairs, token = await run_in_threadpool(_versions, ctx, model, ref, limit, token)
    every = ctx.inference()[0].stats  # a version never run has no entry, and gets none here
    stats = [every.get((n, v), VersionStats()).public(n, v) for n, v in pairs]
    return codecs.json_response({"model_stats": stats, "next_page_token": token})


Limit = Annotated[int, Query(ge=1, le=PAGE, description="Versions per page")]
Token = Annotated[str | None, Query(description="next_page_token of the previous page")]


@_get(
    "/models/stats", "oip_statistics", "Inference statistics of every ready version of every model"
)
async def read_statistics(
    request: Request, limit: Limit = PAGE, page_token: Token = None
) -> Response:
    return await _stats(request, None, None, limit, page_token)


@_get(
    "/models/{name}/stats",
    "oip_model_statistics",
    "Inference statistics of every ready version of a model",
)
async def read_model_statistics(
    name: str, request: Request, limit: Limit = PAGE, page_token: Token = None
) -> Response:
    return await _stats(request, name, None, limit, page_token)


@_get(
    "/models/{name}/versions/{version}/stats",
    "oip_model_version_statistics",
    "Inference statistics of one version (a number or an alias)",
)
async def read_model_version_statistics(name: str, version: str, request: Request) -> Response:
    return await _stats(request, name, version)


# -- system shared memory --------------------------------------------------------------
REGIONS = list[SystemSharedMemoryStatus]


@_get(
    "/systemsharedmemory/status",
    "oip_system_shared_memory_status",
    "Every registered region",
    REGIONS,
)
async def read_system_shared_memory_status(request: Request) -> Response:
    shm = request.app.state.ctx.shared_memory
    return codecs.json_response(shm.status(owner=key_id_of(request)))


@_get(
    "/systemsharedmemory/region/{region}/status",
    "oip_system_shared_memory_region_status",
    "One region (400 where none has that name)",
    REGIONS,
)
async def read_system_shared_memory_region_status(region: str, request: Request) -> Response:
    shm = request.app.state.ctx.shared_memory
    return codecs.json_response(shm.status(region, owner=key_id_of(request)))


@_post(
    "/systemsharedmemory/region/{region}/register",
    "oip_register_system_shared_memory",
    "Register a region of a POSIX shared memory object",
    SystemSharedMemoryRegister,
)
async def create_system_shared_memory_region(region: str, request: Request) -> Response:
    spec = parse_body(SystemSharedMemoryRegister, await request.body(), "register request")
    shm = request.app.state.ctx.shared_memory  # register opens a file: off the event loop
    await run_in_threadpool(shm.register, region, owner=key_id_of(request), **spec.model_dump())
    return Response(status_code=200)


@_post(
    "/systemsharedmemory/unregister",
    "oip_unregister_system_shared_memory",
    "Unregister every region",
)
async def delete_system_shared_memory_regions(request: Request) -> Response:
    request.app.state.ctx.shared_memory.unregister(owner=key_id_of(request))
    return Response(status_code=200)


@_post(
    "/systemsharedmemory/region/{region}/unregister",
    "oip_unregister_system_shared_memory_region",
    "Unregister one region (none of that name is no error)",
)
async def delete_system_shared_memory_region(region: str, request: Request) -> Response:
    request.app.state.ctx.shared_memory.unregister(region, owner=key_id_of(request))
    return Response(status_code=200)
