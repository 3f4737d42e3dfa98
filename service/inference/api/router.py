"""v1 inference: encode, decode, reconstruct, score, generate, interpolate; JSON or .npy both
ways, every operation through the version's batcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from service.context import AppContext
from service.errors import problem_responses
from service.inference.api import codecs, schemas, service
from service.inference.runtime.engine import InferenceEngine

router = APIRouter(prefix="/v1/models/{name}/versions/{ref}", tags=["inference"])
RefPath = Annotated[str, Path(description="A version number or an alias (latest always exists)")]
WHY: dict[int | str, str] = {
    404: "Unknown model, version or alias",
    410: "The version is archived",
    413: "More rows than the request limit, or a body over the limit",
    415: "Unsupported content type",
    422: "Wrong shape, non-finite values, or a value out of range",
    503: "The inference queue is full; see Retry-After",
    504: "Not answered within the inference request timeout",
}
ERRORS = {
    s: {**p, "description": WHY[s]}
    for s, p in problem_responses(404, 410, 413, 415, 422, 503, 504).items()
}


def _served_by(request: Request) -> tuple[AppContext, InferenceEngine]:
    """The hot path takes no dependencies: each one costs FastAPI a resolution per request."""
    ctx: AppContext = request.app.state.ctx
    return ctx, ctx.inference()[0]


def client_gone(request: Request) -> Callable[[], Any]:
    """An awaitable factory that resolves once the client has disconnected."""

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    return watch


BODIES: dict[str, tuple[type, type]] = {  # operation: (request, response)
    "encode": (schemas.EncodeRequest, schemas.EncodeResponse),
    "decode": (schemas.DecodeRequest, schemas.DecodeResponse),
    "reconstruct": (schemas.ReconstructRequest, schemas.ReconstructResponse),
    "score": (schemas.ScoreRequest, schemas.ScoreResponse),
    "generate": (schemas.GenerateRequest, schemas.GenerateResponse),
    "interpolate": (schemas.InterpolateRequest, schemas.InterpolateResponse),
}


def _post(op: str, summary: str, main: str, *, npy: bool = True) -> Any:
    """router.post for an operation: explicit operation id, the JSON and .npy bodies both ways."""
    body, response = BODIES[op]
    return router.post(
        f"/{op}",
        operation_id=op,
        summary=summary,
        response_model=response,
        responses={**codecs.npy_response(f"JSON, or with Accept {codecs.NPY}: {main}"), **ERRORS},
        openapi_extra=codecs.request_body(body, binary=codecs.NPY if npy else None),
    )


async def _rows(
    request: Request, ctx: AppContext, name: str, ref: str, schema: type, field: str
) -> Any:
    """Parse the body (nothing is queued yet), resolve the version, validate the rows."""
    body: Any = await codecs.read_request(request, schema, array_field=field)
    loaded = await service.served_version(ctx, name=name, ref=ref)
    width = loaded.code_size if field == "codings" else loaded.n_features
    rows, most = getattr(body, field), ctx.settings.max_request_rows
    return body, loaded, service.to_matrix(rows, n_columns=width, field=field, max_rows=most)


@_post("encode", "Encode rows into codings", "codings")
async def encode(name: str, ref: RefPath, request: Request) -> Response:
    ctx, engine = _served_by(request)
    body, loaded, x = await _rows(request, ctx, name, ref, schemas.EncodeRequest, "inputs")
    out = await service.encode(
        engine, loaded, x, sample=body.sample, seed=body.seed, gone=client_gone(request)
    )
    return codecs.respond(request, out, main="codings")


@_post("decode", "Decode codings into rows", "outputs")
async def decode(name: str, ref: RefPath, request: Request) -> Response:
    ctx, engine = _served_by(request)
    _, loaded, z = await _rows(request, ctx, name, ref, schemas.DecodeRequest, "codings")
    out = await service.decode(engine, loaded, z, gone=client_gone(request))
    return codecs.respond(request, out, main="outputs")


@_post("reconstruct", "Reconstruct rows; per-row errors", "reconstructions")
async def reconstruct(name: str, ref: RefPath, request: Request) -> Response:
    ctx, engine = _served_by(request)
    _, loaded, x = await _rows(request, ctx, name, ref, schemas.ReconstructRequest, "inputs")
    out = await service.reconstruct(engine, loaded, x, gone=client_gone(request))
    return codecs.respond(request, out, main="reconstructions")


@_post("score", "Anomaly scores: per-row error against the threshold", "scores (1-D)")
async def score(name: str, ref: RefPath, request: Request) -> Response:
    ctx, engine = _served_by(request)
    body, loaded, x = await _rows(request, ctx, name, ref, schemas.ScoreRequest, "inputs")
    out = await service.score(engine, loaded, x, body, gone=client_gone(request))
    return codecs.respond(request, out, main="scores")


@_post("generate", "Sample new rows from the latent space", "samples", npy=False)
async def generate(name: str, ref: RefPath, request: Request) -> Response:
    ctx, engine = _served_by(request)
    body = await codecs.read_request(request, schemas.GenerateRequest, array_field=None)
    loaded = await service.served_version(ctx, name=name, ref=ref)
    max_n = ctx.settings.max_generate
    out = await service.generate(engine, loaded, body, max_n=max_n, gone=client_gone(request))
    return codecs.respond(request, out, main="samples")


@_post("interpolate", "Decode a straight latent line between two rows", "outputs", npy=False)
async def interpolate(name: str, ref: RefPath, request: Request) -> Response:
    ctx, engine = _served_by(request)
    body = await codecs.read_request(request, schemas.InterpolateRequest, array_field=None)
    loaded = await service.served_version(ctx, name=name, ref=ref)
    max_steps = ctx.settings.max_interpolate_steps
    out = await service.interpolate(
        engine, loaded, body, max_steps=max_steps, gone=client_gone(request)
    )
    return codecs.respond(request, out, main="outputs")
