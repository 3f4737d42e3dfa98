"""The Open Inference Protocol's bodies: JSON tensors, binary tensor data and shared memory
tensors, each checked before the request is queued (an OipError, 400, says what was wrong)."""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import orjson
from fastapi import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from service.context import AppContext
from service.errors import ServiceError
from service.inference.api import codecs
from service.inference.oip.schemas import (
    InferInput,
    InferRequest,
    RequestedOutput,
    flat_fp32,
    parse_infer_request,
)
from service.inference.oip.shared_memory import ClientRegions, SharedMemoryError, TensorRef
from service.inference.runtime.cache import LoadedModel

M = TypeVar("M", bound=BaseModel)
HEADER_LENGTH = "Inference-Header-Content-Length"
FEED_BYTES, MAX_MEMBERS = 1 << 16, 1024  # zlib's input a call; gzip members a body may hold


class OipError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers


def parse_body(schema: type[M], body: bytes, what: str) -> M:
    """A JSON body, or an OipError (400) that names the first wrong field."""
    try:
        return schema.model_validate_json(body)
    except ValidationError as exc:
        raise invalid(exc.errors(include_url=False, include_input=False), what) from None


def invalid(errors: list[Any], what: str) -> OipError:
    where = ".".join(str(p) for p in errors[0]["loc"]) or "body"
    return OipError(400, f"invalid {what}: {where}: {errors[0]['msg']}")


def decoded(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The body as sent before its Content-Encoding (gzip, its members one after another,
    or deflate, as tritonclient compresses), at most `limit` bytes of it: the limit holds
    after decompression. Fed in pieces: each member costs its own bytes, not the rest's."""
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding not in ("gzip", "deflate"):
        raise OipError(415, f"Content-Encoding {encoding[:40]!r}: only gzip and deflate are read")
    plain, view, offset, members = bytearray(), memoryview(body), 0, 0
    most = MAX_MEMBERS if encoding == "gzip" else 1
    while offset < len(view):
        if (members := members + 1) > most:
            raise OipError(400, f"the {encoding} body holds more than {most} member(s) of data")
        inflate = zlib.decompressobj(wbits=32 + zlib.MAX_WBITS)  # a gzip or a zlib header
        while not inflate.eof:
            if offset >= len(view):
                raise OipError(400, f"the {encoding} body ends before its data does")
            piece = view[offset : offset + FEED_BYTES]
            try:
                plain += inflate.decompress(piece, limit + 1 - len(plain))
            except zlib.error as exc:
                raise OipError(400, f"the body is not {encoding} data: {exc}") from None
            if len(plain) > limit:  # also where input was left unread (unconsumed_tail)
                raise OipError(413, f"the body decompresses to more than {limit} bytes")
            offset += len(piece) - len(inflate.unused_data)  # the next member's, if any
    return bytes(plain)


def split_body(header: str | None, body: bytes) -> tuple[bytes, bytes]:
    """The JSON header and what follows it (binary tensor data extension); `header` is the
    Inference-Header-Content-Length header's value."""
    if header is None:
        return body, b""
    digits = header.lstrip("0") or "0"  # parsed only where no longer than the body's length
    number = digits.isascii() and digits.isdigit() and len(digits) <= len(str(len(body)))
    length = int(digits) if number else -1
    if not 0 <= length <= len(body):
        raise OipError(400, f"{HEADER_LENGTH} {header[:40]!r} is not a length within the body")
    return body[:length], body[length:]


async def parse_infer(ctx: AppContext, head: bytes) -> InferRequest:
    """The JSON header; a large one parsed in another process, as the v1 rows are."""
    if ctx.json_bodies is None or len(head) < ctx.settings.json_off_loop_bytes:
        return parse_body(InferRequest, head, "inference request")
    parsed = await ctx.json_bodies.run(parse_infer_request, head)
    if isinstance(parsed, list):
        raise invalid(parsed, "inference request")
    return parsed


def read_input(
    spec: InferInput, binary: bytes, width: int, shm: ClientRegions, max_rows: int
) -> np.ndarray:
    """The one input's values: the binary part (all of it), a shared memory region, or `data`."""
    what, expected = f"input {spec.name!r}", f"expected {spec.name!r} FP32 with shape [-1, {width}]"
    if spec.datatype != "FP32":
        raise OipError(400, f"{what} has datatype {spec.datatype}; {expected}")
    if len(spec.shape) != 2 or spec.shape[1] != width or spec.shape[0] < 1:
        raise OipError(400, f"{what} has shape {spec.shape}; {expected}")
    count = math.prod(spec.shape)
    size = (spec.parameters or {}).get("binary_data_size")
    ref = TensorRef.from_parameters(spec.parameters, what)
    if sum(x is not None for x in (size, ref, spec.data)) > 1:
        ways = "data, binary_data_size or a shared memory region"
        raise OipError(400, f"{what}: give its values one way: {ways}")
    if ref is not None:
        if spec.shape[0] > max_rows:  # no body limit bounds what a region holds
            most = f"at most {max_rows} (AESVC_MAX_REQUEST_ROWS) per request"
            raise OipError(400, f"{what} has {spec.shape[0]} rows; {most}")
        flat = shm.read_fp32(ref, count, what)
    elif size is not None:
        if not isinstance(size, int) or size != count * 4 or size > len(binary):
            holds = f"binary_data_size {size!r} does not hold shape {spec.shape} of FP32"
            raise OipError(400, f"{what}: {holds} ({count * 4} bytes); {expected}")
        flat = np.frombuffer(memoryview(binary)[:size], dtype="<f4").astype(np.float32)
    else:
        values = flat_fp32(spec.data)
        if values is None:
            not_numbers = "data is not numbers in a row-major (flat or nested) list"
            raise OipError(400, f"{what}: {not_numbers}; {expected}")
        flat = values
        if flat.size != count:
            fill = f"{flat.size} values do not fill shape {spec.shape} ({count})"
            raise OipError(400, f"{what}: {fill}; {expected}")
    unused = len(binary) - (size or 0)
    if unused:
        raise OipError(400, f"{unused} bytes of binary data belong to no input")
    return flat.reshape(spec.shape)


@dataclass(frozen=True)
class Wanted:
    """A requested output: by name, in the body (JSON or binary), or into shared memory."""

    name: str
    binary: bool
    ref: TensorRef | None


def flag(
    parameters: dict[str, Any] | None, name: str, what: str, *, default: bool | None = False
) -> bool | None:
    """A boolean parameter: true or false, never a string (bool("false") is True)."""
    value = (parameters or {}).get(name, default)
    if value is not default and not isinstance(value, bool):
        raise OipError(400, f"{what}: {name} {value!r} is not true or false")
    return value


def wanted_outputs(
    infer: InferRequest, shapes: dict[str, tuple[int, ...]], shm: ClientRegions
) -> list[Wanted]:
    """The outputs to answer with, each checked (shared memory: that it will fit) before
    the request is queued."""
    all_binary = bool(flag(infer.parameters, "binary_data_output", "parameters"))
    requested = infer.outputs or [RequestedOutput(name=n) for n in shapes]
    unknown = [o.name for o in requested if o.name not in shapes]
    if unknown:
        raise OipError(400, f"unknown output {unknown[0]!r}; expected one of {list(shapes)}")
    names = [o.name for o in requested]
    repeated = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if repeated is not None:  # Triton refuses it too; each repeat would be answered again
        raise OipError(400, f"output {repeated!r} is requested more than once")
    wanted = []
    for out in requested:
        what = f"output {out.name!r}"
        ref = TensorRef.from_parameters(out.parameters, what)
        binary = flag(out.parameters, "binary_data", what, default=None)
        if ref is not None:
            if binary:
                clash = "binary_data and a shared memory region exclude each other"
                raise OipError(400, f"{what}: {clash}")
            shm.check_output(ref, math.prod(shapes[out.name]) * 4, what)
        wanted.append(Wanted(out.name, all_binary if binary is None else bool(binary), ref))
    return wanted


def respond(
    infer: InferRequest,
    name: str,
    version: int,
    wanted: list[Wanted],
    arrays: dict[str, np.ndarray],
    shm: ClientRegions,
) -> Response:
    outputs, blobs = [], []
    for out in wanted:
        array = np.ascontiguousarray(arrays[out.name], dtype="<f4")
        entry: dict[str, Any] = {"name": out.name, "datatype": "FP32", "shape": list(array.shape)}
        if out.ref is not None:
            written = shm.write(out.ref, array, f"output {out.name!r}")
            entry["parameters"] = out.ref.parameters(written)
        elif out.binary:
            blob = array.tobytes()
            entry["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            entry["data"] = array.reshape(-1)
        outputs.append(entry)
    body: dict[str, Any] = {"model_name": name, "model_version": str(version), "outputs": outputs}
    if infer.id is not None:
        body["id"] = infer.id
    head = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
    if not blobs:
        return Response(head, media_type=codecs.JSON)
    return Response(
        b"".join([head, *blobs]),
        media_type="application/octet-stream",
        headers={HEADER_LENGTH: str(len(head))},
    )


DECODER = ".decoder"


@dataclass(frozen=True)
class Target:
    """What a v2 model name means: the autoencoder, or its decoder alone."""

    model: str  # the registry's model name
    decoder: bool

    @classmethod
    def parse(cls, name: str) -> Target:
        if name.endswith(DECODER) and len(name) > len(DECODER):
            return cls(name.removesuffix(DECODER), True)
        return cls(name, False)

    def input(self, loaded: LoadedModel) -> tuple[str, int]:
        return ("codings", loaded.code_size) if self.decoder else ("input", loaded.n_features)

    def signature(self, loaded: LoadedModel) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The metadata's inputs and outputs: FP32, any number of rows."""
        name, width = self.input(loaded)
        shapes = {name: (-1, width), **self.output_shapes(loaded, -1)}
        tensors = [{"name": n, "datatype": "FP32", "shape": list(s)} for n, s in shapes.items()]
        return tensors[:1], tensors[1:]

    def output_shapes(self, loaded: LoadedModel, rows: int) -> dict[str, tuple[int, ...]]:
        if self.decoder:
            return {"output": (rows, loaded.n_features)}
        return {
            "codings": (rows, loaded.code_size),
            "reconstruction": (rows, loaded.n_features),
            "reconstruction_error": (rows,),
        }


class OipRoute(APIRoute):
    """A route of the protocol: what its (async) endpoint raises (an OipError, a shared memory
    refusal, a service error) answers with the protocol's error body. The app's dependencies
    (the key check) still answer problem+json, as on every route."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        @functools.wraps(endpoint)  # FastAPI reads the signature through the wrapper
        async def answer(*args: Any, **kwargs: Any) -> Any:
            try:
                return await endpoint(*args, **kwargs)
            except (OipError, SharedMemoryError, ServiceError) as exc:
                return error_response(exc)

        super().__init__(path, answer, **kwargs)


def error_response(exc: OipError | SharedMemoryError | ServiceError) -> Response:
    """The protocol's error body: a shared memory refusal is a 400, a service error keeps its
    status where the protocol has one."""
    if isinstance(exc, ServiceError):
        exc = _from_service_error(exc)
    status, headers = (exc.status, exc.headers) if isinstance(exc, OipError) else (400, None)
    return codecs.json_response({"error": str(exc)}, status, headers)


def _from_service_error(exc: ServiceError) -> OipError:
    status = 404 if exc.status == 410 else exc.status
    if status not in (404, 499, 503, 504):
        status = 400 if status < 500 else 500
    return OipError(status, exc.detail, exc.headers or None)
