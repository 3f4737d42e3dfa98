"""The Open Inference Protocol's model repository extension: the index, and explicit load and
unload of versions (docs/inference.md). Errors are {"error": "..."}, 400."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from service.context import AppContext
from service.errors import ServiceError
from service.inference.api import codecs, service
from service.inference.oip.router import NO_BODY, OIP, OIP_ERRORS
from service.inference.oip.tensors import DECODER, OipError, error_response, parse_body
from service.registry.service import get_model, ready_versions

router = APIRouter(prefix="/v2/repository")
REPOSITORY_TAGS: list[Any] = ["oip-repository"]  # admin for its writes (service.security)
ERRORS: dict[int | str, dict[str, Any]] = {400: OIP_ERRORS[400]}


class RepositoryIndexRequest(BaseModel):
    ready: bool = False


class RepositoryModelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parameters: dict[str, Any] = {}


class RepositoryIndexEntry(BaseModel):
    name: str
    version: str
    state: str
    reason: str


def _index(ctx: AppContext, *, ready_only: bool) -> list[dict[str, str]]:
    loaded = {(m.name, m.version) for m in ctx.inference()[1].loaded_models()}
    with ctx.session_factory() as session:
        versions = ready_versions(session=session)
    entries = []
    for name, version in versions:
        warm = (name, version) in loaded
        if warm or not ready_only:
            state, reason = ("READY", "") if warm else ("UNAVAILABLE", "unloaded")
            entries.append(
                {"name": name, "version": str(version), "state": state, "reason": reason}
            )
    return entries


def _body(body: bytes, schema: type[BaseModel], what: str) -> Any:
    """The spec lets these bodies be empty."""
    return schema() if not body.strip() else parse_body(schema, body, what)


@router.post(
    "/index",
    tags=OIP,
    operation_id="oip_repository_index",
    summary="Every ready version, and whether it is loaded (READY) or not (UNAVAILABLE)",
    response_model=list[RepositoryIndexEntry],
    responses=ERRORS,
    openapi_extra=codecs.request_body(RepositoryIndexRequest, npy=False),
)
async def read_repository_index(request: Request) -> Response:
    try:
        spec = _body(await request.body(), RepositoryIndexRequest, "index request")
        entries = await run_in_threadpool(_index, request.app.state.ctx, ready_only=spec.ready)
    except OipError as exc:
        return error_response(exc)
    return Response(orjson.dumps(entries), media_type=codecs.JSON)


async def _control(
    request: Request,
    name: str,
    action: str,
    allowed: set[str],
    run: Callable[[dict[str, Any]], Awaitable[None]],
) -> Response:
    """Load or unload: the body's parameters (only `allowed`), then `run` them; 200 or 400."""
    try:
        spec = _body(await request.body(), RepositoryModelRequest, f"{action} request")
        unknown = sorted(set(spec.parameters) - allowed)
        if unknown:
            raise OipError(
                400,
                f"{action} parameter {unknown[0]!r} is not supported; expected only "
                f"{sorted(allowed)}",
            )
        await run(spec.parameters)
    except OipError as exc:
        return error_response(exc)
    except ServiceError as exc:
        return error_response(OipError(400, f"failed to {action} {name!r}: {exc.detail}"))
    return Response(status_code=200)


@router.post(
    "/models/{name}/load",
    tags=REPOSITORY_TAGS,
    operation_id="oip_repository_model_load",
    summary="Load and warm a version (parameters.version: a number or alias; latest)",
    response_class=Response,
    responses={**NO_BODY, **ERRORS},
    openapi_extra=codecs.request_body(RepositoryModelRequest, npy=False),
)
async def create_repository_model_load(name: str, request: Request) -> Response:
    async def load(parameters: dict[str, Any]) -> None:
        ref = parameters.get("version", "latest")
        if not isinstance(ref, str | int) or isinstance(ref, bool):
            raise OipError(400, f"load parameter 'version' {ref!r} is not a number or alias")
        await service.served_version(
            request.app.state.ctx, name=name.removesuffix(DECODER), ref=str(ref)
        )

    return await _control(request, name, "load", {"version"}, load)


def _unload(ctx: AppContext, name: str) -> None:
    with ctx.session_factory() as session:
        get_model(session=session, name=name)  # an unknown model is an error
    ctx.inference()[1].evict(name)


@router.post(
    "/models/{name}/unload",
    tags=REPOSITORY_TAGS,
    operation_id="oip_repository_model_unload",
    summary="Drop every loaded version of the model from this process",
    response_class=Response,
    responses={**NO_BODY, **ERRORS},
    openapi_extra=codecs.request_body(RepositoryModelRequest, npy=False),
)
async def create_repository_model_unload(name: str, request: Request) -> Response:
    async def unload(parameters: dict[str, Any]) -> None:
        await run_in_threadpool(_unload, request.app.state.ctx, name.removesuffix(DECODER))

    return await _control(request, name, "unload", {"unload_dependents"}, unload)
