"""Bodies in and out: JSON (orjson out), .npy (application/x-npy) both ways.

Parsing happens before anything is queued, so a malformed body never reaches a batch.
"""

from __future__ import annotations

import io
from typing import Any, TypeVar

import numpy as np
import orjson
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from service.errors import Unprocessable, UnsupportedMediaType

JSON = "application/json"
NPY = "application/x-npy"
M = TypeVar("M", bound=BaseModel)
NPY_EXPECTED = "expected a 2-D float32 or float64 .npy array"


def media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def parse_json(schema: type[M], body: bytes) -> M:
    try:
        return schema.model_validate_json(body)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def parse_npy(body: bytes, *, field: str) -> np.ndarray:
    try:
        array = np.lib.format.read_array(io.BytesIO(body), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise Unprocessable(field, f"not a readable .npy file ({exc}); {NPY_EXPECTED}") from None
    if array.dtype.kind != "f" or array.dtype.itemsize not in (4, 8):
        raise Unprocessable(field, f"dtype {array.dtype} is not supported; {NPY_EXPECTED}")
    if array.ndim != 2:
        raise Unprocessable(field, f"got a {array.ndim}-D array {array.shape}; {NPY_EXPECTED}")
    return np.ascontiguousarray(array, dtype=np.float32)


async def read_request(request: Request, schema: type[M], *, array_field: str | None) -> M:
    """The body as `schema`: JSON, or (where `array_field` is given) an .npy body that
    fills that field, the others keeping their defaults. Anything else is a 415."""
    kind = media_type(request.headers.get("content-type")) or JSON
    body = await request.body()
    if kind == JSON or kind.endswith("+json"):
        return parse_json(schema, body)
    if kind == NPY and array_field is not None:
        fields: dict[str, Any] = {array_field: parse_npy(body, field=array_field)}
        return schema.model_construct(**fields)
    accepted = JSON if array_field is None else f"{JSON} or {NPY}"
    raise UnsupportedMediaType(f"content type {kind!r} is not supported here; send {accepted}")


def wants_npy(request: Request) -> bool:
    return NPY in request.headers.get("accept", "")


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def respond(request: Request, payload: dict[str, Any], *, main: str) -> Response:
    """orjson (numpy arrays written natively), or with Accept: application/x-npy the main
    array alone as .npy, the model and version in headers."""
    if wants_npy(request):
        headers = {"X-Model-Name": payload["model"], "X-Model-Version": str(payload["version"])}
        return Response(npy_bytes(payload[main]), media_type=NPY, headers=headers)
    return Response(orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY), media_type=JSON)


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def request_body(
    schema: type[BaseModel], *, npy: bool, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """openapi_extra for a body parsed by hand: the JSON schema (inlined), and .npy."""
    json_schema = schema.model_json_schema()
    content: dict[str, Any] = {
        JSON: {"schema": _inline_refs(json_schema, json_schema.get("$defs", {}))}
    }
    if npy:
        content[NPY] = {"schema": {"type": "string", "format": "binary"}}
    content.update(extra or {})
    return {"requestBody": {"required": True, "content": content}}


def npy_response(description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description,
            "content": {NPY: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
