"""Bodies in and out: JSON (orjson out) and .npy (application/x-npy), parsed before anything
is queued."""

from __future__ import annotations

import io
from typing import Any, TypeVar

import numpy as np
import orjson
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from service.errors import Unprocessable, UnsupportedMediaType
from service.json_bodies import body_errors
from service.npy import plain_npy_view

JSON = "application/json"
NPY = "application/x-npy"
M = TypeVar("M", bound=BaseModel)
NPY_EXPECTED = "expected a 2-D float32 or float64 .npy array"
BINARY = {"type": "string", "format": "binary"}


def header(request: Request, name: bytes) -> str:
    """A header's value ("" without one): the first of its name, as starlette's Headers
    answer, read from the raw list (no Headers object made for the two read here)."""
    for key, value in request.scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


ROWS_EXPECTED = "send rows as a list of lists: [[...]] (one inner list per row)"


def _flat_rows_once(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A 1-D list where rows belong fails once per value (64 values, 64 errors): say it
    once, with the fix."""
    flat = {e["loc"][1] for e in errors if e["type"] == "list_type" and len(e["loc"]) == 3}
    if not flat:
        return errors
    kept = [e for e in errors if len(e["loc"]) < 2 or e["loc"][1] not in flat]
    return kept + [
        {"type": "rows_type", "loc": ("body", field), "msg": ROWS_EXPECTED, "input": None}
        for field in sorted(flat)
    ]


def parse_npy(body: bytes | bytearray, *, field: str) -> np.ndarray:
    """A 2-D float array (float32, C-ordered) from an .npy body. From a bytearray, a plain
    float32 body is read in place: the array is a writable view of the body."""
    array = plain_npy_view(body)
    if array is None:
        try:
            array = np.lib.format.read_array(io.BytesIO(body), allow_pickle=False)
        # MemoryError: a header claiming TBs; OverflowError: a dimension past int64
        except (ValueError, OSError, EOFError, MemoryError, OverflowError) as exc:
            detail = f"not a readable .npy file ({exc}); {NPY_EXPECTED}"
            raise Unprocessable(field, detail) from None
    if array.dtype.kind != "f" or array.dtype.itemsize not in (4, 8):
        raise Unprocessable(field, f"dtype {array.dtype} is not supported; {NPY_EXPECTED}")
    if array.ndim != 2:
        raise Unprocessable(field, f"got a {array.ndim}-D array {array.shape}; {NPY_EXPECTED}")
    return np.ascontiguousarray(array, dtype=np.float32)


async def read_request(request: Request, schema: type[M], *, array_field: str | None) -> M:
    """The body as `schema`: JSON, or (where `array_field` is given) an .npy body that
    fills that field, the others keeping their defaults. Anything else is a 415."""
    kind = header(request, b"content-type").split(";", 1)[0].strip().lower() or JSON
    if kind == NPY and array_field is not None:
        # joined into a bytearray (one copy, as Request.body() joins into bytes): the array
        # is read from it in place and stays writable, as torch.from_numpy wants it
        buffer = bytearray().join([chunk async for chunk in request.stream()])
        fields: dict[str, Any] = {array_field: parse_npy(buffer, field=array_field)}
        return schema.model_construct(**fields)
    body = await request.body()
    if kind == JSON or kind.endswith("+json"):
        ctx = request.app.state.ctx
        off_loop = ctx.settings.json_off_loop_bytes
        if array_field is not None and ctx.json_bodies is not None and len(body) >= off_loop:
            # rows: validated in a separate process, the loop stays free (service.json_bodies)
            ok, parsed = await ctx.json_bodies.parse_rows(schema, body, array_field)
            if not ok:
                raise RequestValidationError(_flat_rows_once(parsed))
            return schema.model_construct(**parsed)
        try:
            return schema.model_validate_json(body)
        except ValidationError as exc:
            raise RequestValidationError(_flat_rows_once(body_errors(exc))) from None
    accepted = JSON if array_field is None else f"{JSON} or {NPY}"
    raise UnsupportedMediaType(f"content type {kind!r} is not supported here; send {accepted}")


def npy_bytes(array: np.ndarray) -> bytes:
    """What np.save writes (a version 1.0 header, then the data in C order), in one copy of
    the data: np.save copies it through nditer's buffer, a BytesIO and getvalue()."""
    array = np.ascontiguousarray(array)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    return b"".join((header.getvalue(), array.reshape(-1).view(np.uint8).data))


def respond(request: Request, payload: dict[str, Any], *, main: str, npy: bool) -> Response:
    """orjson (numpy arrays written natively), or where Accept prefers application/x-npy
    (`npy`) the main array alone as .npy; either way the model and the version that answered
    in headers."""
    headers = {"X-Model-Name": payload["model"], "X-Model-Version": str(payload["version"])}
    if npy:
        return Response(npy_bytes(payload[main]), media_type=NPY, headers=headers)
    return json_response(payload, headers=headers)


def prefers_npy(accept: str) -> bool:
    """Whether Accept asks for .npy over JSON (RFC 9110: media types without case, q=0 is
    "not this", the higher q wins; a tie, .npy named alongside JSON, goes to .npy)."""
    accept = accept.lower()
    if NPY not in accept:  # the usual case, decided without parsing
        return False
    npy = json = 0.0
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = min(1.0, max(0.0, float(value)))
                except ValueError:
                    q = 0.0
        if media == NPY:
            npy = max(npy, q)
        elif media in (JSON, "application/*", "*/*"):
            json = max(json, q)
    return npy > 0 and npy >= json


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def request_body(schema: type[BaseModel], *, binary: str | None = None) -> dict[str, Any]:
    """openapi_extra for a body parsed by hand: the JSON schema (inlined), or `binary`."""
    json_schema = schema.model_json_schema()
    content: dict[str, Any] = {
        JSON: {"schema": _inline_refs(json_schema, json_schema.get("$defs", {}))}
    }
    if binary is not None:
        content[binary] = {"schema": BINARY}
    return {"requestBody": {"required": True, "content": content}}


def npy_response(description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {NPY: {"schema": BINARY}}}}
