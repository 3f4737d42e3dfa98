"""Open Inference Protocol v2 (KServe v2 / Triton REST): health, model metadata and readiness,
and inference (models and tensors: docs/inference.md). Errors are {"error": "..."}."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from service.context import AppContext
from service.health import readiness
from service.inference.api import codecs, service
from service.inference.api.router import client_gone
from service.inference.oip import tensors
from service.inference.oip.schemas import InferRequest, InferResponse, ModelMetadata, ServerMetadata
from service.inference.oip.tensors import OipError, OipRoute, Target
from service.inference.runtime.cache import LoadedModel
from service.registry.service import ready_versions
from service.security import key_id_of

# tags per route: the server health probes are public
router = APIRouter(prefix="/v2", route_class=OipRoute)
Responses = dict[int | str, dict[str, Any]]


class OipErrorBody(BaseModel):
    error: str


def _error(description: str) -> dict[str, Any]:
    return {"model": OipErrorBody, "description": description}


# The protocol's own error body ({"error": ...}), not problem+json; the 400, the 503 and the
# guard's statuses of every /v2 route are declared by service.openapi_contract.
NOT_FOUND: Responses = {404: _error("Unknown or archived model or version")}
# Inference bodies past AESVC_MAX_BODY_BYTES (service.limits answers in this form too).
TOO_LARGE: Responses = {
    413: _error("The body (decompressed) is over AESVC_MAX_BODY_BYTES"),
    415: _error("A Content-Encoding other than gzip or deflate"),
}
# The health probes answer with a status and no body.
NO_BODY: Responses = {200: {"description": "True", "content": None}}
OIP: list[str | Enum] = ["oip"]
Handler = Callable[[str, str, Request], Awaitable[Response]]  # name, version, request
Pair = tuple[str, str]


async def _served(request: Request, name: str, version: str) -> tuple[Target, LoadedModel]:
    target = Target.parse(name)
    ctx: AppContext = request.app.state.ctx
    return target, await service.served_version(ctx, name=target.model, ref=version)


@router.get("", tags=OIP, operation_id="oip_server_metadata", summary="Server metadata")
async def read_server_metadata(request: Request) -> ServerMetadata:
    extensions = ["binary_tensor_data", "model_repository", "statistics"]
    extensions += ["system_shared_memory"] if request.app.state.ctx.shared_memory.enabled else []
    return ServerMetadata(
        name="autoencoder-service", version=request.app.version, extensions=extensions
    )


def _probe(path: str, operation_id: str, summary: str) -> Any:
    return router.get(
        path,
        tags=["health"],
        operation_id=operation_id,
        summary=summary,
        response_class=Response,
        responses=NO_BODY,
    )


@_probe("/health/live", "oip_server_live", "200 while the server runs")
async def read_server_live() -> Response:
    return Response(status_code=200)


@_probe("/health/ready", "oip_server_ready", "200 ready, 400 not")
async def read_server_ready(request: Request) -> Response:
    checks = await run_in_threadpool(readiness, request.app.state.ctx)
    return Response(status_code=200 if all(c["ok"] for c in checks.values()) else 400)


def _ready_versions(ctx: AppContext, model: str) -> list[str]:
    with ctx.session_factory() as session:
        return [str(version) for _, version in ready_versions(session=session, name=model)]


async def _metadata(name: str, version: str, request: Request) -> Response:
    target, loaded = await _served(request, name, version)
    versions = await run_in_threadpool(_ready_versions, request.app.state.ctx, target.model)
    inputs, outputs = target.signature(loaded)
    body = {"name": name, "versions": versions, "platform": "pytorch"}
    return codecs.json_response({**body, "inputs": inputs, "outputs": outputs})


async def _ready(name: str, version: str, request: Request) -> Response:
    await _served(request, name, version)
    return Response(status_code=200)


def _route_pair(
    method: str, path: str, endpoint: Handler, ids: Pair, summaries: Pair, **spec: Any
) -> None:
    """`endpoint` at `/models/{name}/versions/{version}{path}`, and for the latest version at
    `/models/{name}{path}`; `ids` and `summaries`: the two routes', the latest first."""

    async def latest(name: str, request: Request) -> Response:
        return await endpoint(name, "latest", request)

    routes: dict[str, Callable[..., Any]] = {"": latest, "/versions/{version}": endpoint}
    for (infix, route), operation_id, summary in zip(routes.items(), ids, summaries, strict=True):
        router.add_api_route(
            f"/models/{{name}}{infix}{path}",
            route,
            methods=[method],
            tags=OIP,
            operation_id=operation_id,
            summary=summary,
            name=operation_id,
            **spec,
        )


_route_pair(
    "GET",
    "",
    _metadata,
    ("oip_model_metadata", "oip_model_version_metadata"),
    ("Model metadata", "Model version metadata"),
    responses={200: {"model": ModelMetadata, "description": "The model's tensors"}, **NOT_FOUND},
)
_route_pair(
    "GET",
    "/ready",
    _ready,
    ("oip_model_ready", "oip_model_version_ready"),
    ("200 ready, 4xx not", "200 ready, 4xx not"),
    response_class=Response,
    responses={**NO_BODY, **NOT_FOUND},
)


# each operation's outputs as the protocol names them (a VAE's encode: the means alone)
OUTPUTS = {
    "decode": ("output",),
    "encode": ("codings",),
    "reconstruct": ("reconstruction", "reconstruction_error", "codings"),
}


async def _infer(name: str, version: str, request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    shm = ctx.shared_memory.client(key_id_of(request))
    limit = ctx.settings.max_body_bytes
    body = tensors.decoded(await request.body(), request.headers.get("content-encoding"), limit)
    head, binary = tensors.split_body(request.headers.get(tensors.HEADER_LENGTH), body)
    infer = await tensors.parse_infer(ctx, head)
    target, loaded = await _served(request, name, version)
    wanted_input, width = target.input(loaded)
    if len(infer.inputs) != 1 or infer.inputs[0].name != wanted_input:
        got = [i.name for i in infer.inputs]
        raise OipError(400, f"inputs {got}; expected exactly one input {wanted_input!r}")
    max_rows = ctx.settings.max_request_rows
    x = tensors.read_input(infer.inputs[0], binary, width, shm, max_rows)
    x = service.to_matrix(x, n_columns=width, field=wanted_input, max_rows=max_rows)
    wanted = tensors.wanted_outputs(infer, target.output_shapes(loaded, len(x)), shm)
    in_body = [o for o in wanted if o.ref is None]  # a region's outputs are not sent
    if target.decoder and in_body:
        packed = all(o.binary for o in in_body)
        value_bytes = service.NPY_VALUE_BYTES if packed else service.JSON_VALUE_BYTES
        service.check_answer(ctx, len(x), loaded.n_features, wanted_input, value_bytes)
    op = "decode" if target.decoder else "reconstruct"
    if not target.decoder and not {o.name for o in wanted} - {"codings"}:
        op = "encode"  # codings alone; else one operation queues (and counts) the rows once
    outputs = await service.run(ctx, loaded, op, x, client_gone(request))
    arrays = dict(zip(OUTPUTS[op], outputs, strict=False))
    return tensors.respond(infer, name, loaded.version, wanted, arrays, shm)


_route_pair(
    "POST",
    "/infer",
    _infer,
    ("oip_infer", "oip_infer_version"),
    ("Inference (latest version)", "Inference on a version"),
    responses={**NOT_FOUND, **TOO_LARGE},
    response_model=InferResponse,
    openapi_extra=codecs.request_body(InferRequest, binary="application/octet-stream"),
)
