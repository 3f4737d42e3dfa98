"""The Open Inference Protocol's statistics extension (`GET /v2/models[/{m}[/versions/{v}]]/stats`);
its router goes before the OIP router's (docs/inference.md)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from service.context import AppContext
from service.errors import ServiceError
from service.inference.api import codecs
from service.inference.oip.router import OIP, OIP_ERRORS
from service.inference.oip.tensors import DECODER, OipError, error_response
from service.registry.service import ready_versions, resolve_version

router = APIRouter(prefix="/v2/models", tags=OIP)
ERRORS: dict[int | str, dict[str, Any]] = {400: OIP_ERRORS[400]}


class DurationStat(BaseModel):
    count: int
    ns: int


class InferenceStats(BaseModel):
    success: DurationStat
    fail: DurationStat
    queue: DurationStat
    compute_input: DurationStat
    compute_infer: DurationStat
    compute_output: DurationStat
    cache_hit: DurationStat


class BatchStat(BaseModel):
    batch_size: int
    compute_input: DurationStat
    compute_infer: DurationStat
    compute_output: DurationStat


class ModelStat(BaseModel):
    name: str
    version: str
    last_inference: int
    inference_count: int
    execution_count: int
    inference_stats: InferenceStats
    batch_stats: list[BatchStat]


class StatisticsResponse(BaseModel):
    model_stats: list[ModelStat]


def _versions(ctx: AppContext, name: str | None, ref: str | None) -> list[tuple[str, int]]:
    with ctx.session_factory() as session:
        if name is not None and ref is not None:
            mv = resolve_version(session=session, name=name, ref=ref, allow_archived=True)
            return [(name, mv.version)]
        return ready_versions(session=session, name=name)


def _get(path: str, operation_id: str, summary: str) -> Any:
    return router.get(
        path,
        operation_id=operation_id,
        summary=summary,
        response_model=StatisticsResponse,
        responses=ERRORS,
    )


async def _stats(request: Request, name: str | None, ref: str | None) -> Response:
    model = name and name.removesuffix(DECODER)
    try:
        pairs = await run_in_threadpool(_versions, request.app.state.ctx, model, ref)
    except ServiceError as exc:
        return error_response(OipError(400, f"no statistics for {name!r}: {exc.detail}"))
    engine, _ = request.app.state.ctx.inference()
    body = {"model_stats": [engine.stats.public(n, v) for n, v in pairs]}
    return Response(orjson.dumps(body), media_type=codecs.JSON)


@_get("/stats", "oip_statistics", "Inference statistics of every ready version of every model")
async def read_statistics(request: Request) -> Response:
    return await _stats(request, None, None)


@_get(
    "/{name}/stats",
    "oip_model_statistics",
    "Inference statistics of every ready version of a model",
)
async def read_model_statistics(name: str, request: Request) -> Response:
    return await _stats(request, name, None)


@_get(
    "/{name}/versions/{version}/stats",
    "oip_model_version_statistics",
    "Inference statistics of one version (a number or an alias)",
)
async def read_model_version_statistics(name: str, version: str, request: Request) -> Response:
    return await _stats(request, name, version)
