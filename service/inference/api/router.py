"""v1 inference: encode, decode, reconstruct, score, generate, interpolate; JSON or .npy both
ways, every operation through the version's batcher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from service.context import AppContext
from service.errors import problem_responses
from service.inference.api import codecs, schemas, service

router = APIRouter(prefix="/v1/models/{name}/versions/{ref}", tags=["inference"])
RefPath = Annotated[str, Path(description="A version number or an alias (latest always exists)")]
WHY = {
    404: "Unknown model, version or alias",
    410: "The version is archived",
    413: "More rows than the request limit, or a body over the limit",
    415: "Unsupported content type",
    422: "Wrong shape, non-finite values, or a value out of range",
    503: "The inference queue is full; see Retry-After",
    504: "Not answered within the inference request timeout",
}
ERRORS: dict[int | str, dict[str, Any]] = {
    s: {**problem_responses(s)[s], "description": why} for s, why in WHY.items()
}


def client_gone(request: Request) -> Callable[[], Any]:
    """An awaitable factory that resolves once the client has disconnected."""

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    return watch


def _operation(op: str, summary: str, main: str, *, rows: str | None, doc: str = "") -> None:
    """POST /{op}: the body (JSON, or .npy filling `rows`) parsed before anything is queued,
    the version resolved, service.{op} run on its batchers; JSON, or .npy of `main`, back."""
    body = getattr(schemas, f"{op.title()}Request")
    run: Callable[..., Awaitable[service.Answer]] = getattr(service, op)

    async def endpoint(name: str, ref: RefPath, request: Request) -> Response:
        ctx: AppContext = request.app.state.ctx
        parsed = await codecs.read_request(request, body, array_field=rows)
        loaded = await service.served_version(ctx, name=name, ref=ref)
        npy = codecs.prefers_npy(codecs.header(request, b"accept"))
        # what a value of the answer takes: decode, generate and interpolate bound it by this
        value_bytes = service.NPY_VALUE_BYTES if npy else service.JSON_VALUE_BYTES
        out = await run(ctx, loaded, parsed, client_gone(request), value_bytes)
        return codecs.respond(request, out, main=main, npy=npy)

    npy = codecs.npy_response(f"JSON, or with Accept {codecs.NPY}: {doc or main}")
    router.add_api_route(
        f"/{op}",
        endpoint,
        methods=["POST"],
        name=op,
        operation_id=op,
        summary=summary,
        response_model=getattr(schemas, f"{op.title()}Response"),
        responses={**npy, **ERRORS},
        openapi_extra=codecs.request_body(body, binary=codecs.NPY if rows else None),
    )


_operation("encode", "Encode rows into codings", "codings", rows="inputs")
_operation("decode", "Decode codings into rows", "outputs", rows="codings")
_operation("reconstruct", "Reconstruct rows; per-row errors", "reconstructions", rows="inputs")
SCORE = "Anomaly scores: per-row error against the threshold"
_operation("score", SCORE, "scores", rows="inputs", doc="scores (1-D)")
_operation("generate", "Sample new rows from the latent space", "samples", rows=None)
_operation("interpolate", "Decode a straight latent line between two rows", "outputs", rows=None)
