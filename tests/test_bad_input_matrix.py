"""A bad-input matrix over every input-taking operation of the HTTP API (issue #9).

Each case sends one bad request and checks three things: the status the design names
(404 unknown, 409 conflict, 410 archived, 413 oversize, 415 media type, 422 validation,
400 malformed), the error body (problem+json naming the field for a 422; the Open
Inference Protocol's {"error": ...} under /v2), and that neither the database (every row
of every table) nor the files under the data dir (artifacts, spooled uploads) changed.

The world the cases run against is built once for the module: an uploaded dataset, a
dense model with two trained versions, an alias and an archived third version, a VAE,
a model imported without training metrics, a finished job and a queued one.
`test_the_matrix_covers_every_operation` fails when an operation of the schema has no
case of the kinds that apply to it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, select

from service.all_tables import Base
from service.config import Settings
from service.main import create_app
from tests.factories import (
    job_body,
    module_settings,
    npy_bytes,
    random_matrix,
    run_worker,
)
from tests.registry.builders import import_model, model_blob

PROBLEM_JSON = "application/problem+json"
MAX_UPLOAD_BYTES = 8 << 10
MAX_BODY_BYTES = 16 << 10
MAX_ROWS = 8
MAX_GENERATE = 32
MAX_STEPS = 16
N_FEATURES, CODE_SIZE = 6, 2
AE, VAE, IMPORTED, ALIAS, ARCHIVED = "ae", "vae", "imported", "prod", 3
DATASET = "ds"
IDEMPOTENCY_KEY = "matrix-first-job"
NO_JOB = "0" * 32
NPY = "application/x-npy"

# Kinds of bad input; the coverage test asks for the ones that apply to each operation.
UNKNOWN = "unknown"  # an id, name, version or alias that does not exist
BAD_QUERY = "bad-query"
MALFORMED_JSON = "malformed-json"
MALFORMED_MULTIPART = "malformed-multipart"
MALFORMED_NPY = "malformed-npy"  # or another broken binary body (safetensors, OIP tensors)
MEDIA_TYPE, OVERSIZE = "media-type", "oversize"
BODY_KINDS = {
    "wrong-shape",
    "wrong-type",
    "non-finite",
    "empty",
    "out-of-range",
    "missing",
    "extra-field",
    "conflict",
    "bad-alias",
    MALFORMED_JSON,
    MALFORMED_MULTIPART,
    MALFORMED_NPY,
    MEDIA_TYPE,
    OVERSIZE,
}


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # the path as the OpenAPI schema spells it
    url: str  # {job} and {queued} are filled in with the world's job ids
    kind: str
    label: str
    status: int
    field: str | None = None  # a 422 must name this field
    request: dict[str, Any] = dataclass_field(default_factory=dict)  # keywords for client.request

    @property
    def id(self) -> str:
        return f"{self.method} {self.route} [{self.kind}: {self.label}]"

    @property
    def oip(self) -> bool:
        return self.route.startswith("/v2")


def raw(body: bytes, content_type: str = "application/json") -> dict[str, Any]:
    return {"content": body, "headers": {"content-type": content_type}}


def npy(array: np.ndarray) -> dict[str, Any]:
    return raw(npy_bytes(array), "application/x-npy")


def oversize_json() -> dict[str, Any]:
    return raw(b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}')


def streamed_oversize_json() -> dict[str, Any]:
    """No Content-Length: the limit must hold while the body streams in."""
    chunk = b"[" + b"1.0," * 255 + b"1.0],"
    return {
        "content": iter([b'{"inputs": [', *[chunk] * 20, b"[1]]}"]),
        "headers": {"content-type": "application/json"},
    }


NOT_MULTIPART = raw(b"garbage", "multipart/form-data; boundary=abc")
MULTIPART_WITHOUT_BOUNDARY = raw(b"garbage", "multipart/form-data")
# A part that never ends: the parser finds no complete field, so the file is missing.
UNTERMINATED_PART = raw(
    b'--abc\r\nContent-Disposition: form-data; name="file"; filename="x.npy"\r\n\r\nxx',
    "multipart/form-data; boundary=abc",
)


def _bad_row_cases(op: str, array_field: str, width: int) -> Iterator[Case]:
    """encode, decode, reconstruct, score: one (n, width) matrix of finite numbers."""
    route = f"/v1/models/{{name}}/versions/{{ref}}/{op}"
    url = f"/v1/models/{AE}/versions/1/{op}"
    row = [0.5] * width
    good = {"json": {array_field: [row]}}

    def case(kind: str, label: str, status: int, name: str | None, request: dict) -> Case:
        return Case("POST", route, url, kind, label, status, name, request)

    f = array_field
    yield case("wrong-shape", "too-wide", 422, f, {"json": {f: [[*row, 0.5]]}})
    yield case("wrong-shape", "too-narrow", 422, f, {"json": {f: [row[:-1]]}})
    yield case("wrong-shape", "ragged", 422, f, {"json": {f: [row, row[:-1]]}})
    yield case("wrong-shape", "one-dimensional", 422, f, {"json": {f: row}})
    yield case("wrong-shape", "three-dimensional", 422, f"{f}.0.0", {"json": {f: [[row]]}})
    yield case("wrong-type", "strings", 422, f"{f}.0.0", {"json": {f: [["a"] * width]}})
    yield case("wrong-type", "object", 422, f, {"json": {f: {"a": 1}}})
    yield case("wrong-type", "body-is-a-list", 422, "body", {"json": [row]})
    nan = ", ".join(["NaN", *["0.5"] * (width - 1)])
    yield case("non-finite", "nan-literal", 422, f, raw(f'{{"{f}": [[{nan}]]}}'.encode()))
    inf = ", ".join(["0.5", "-Infinity", *["0.5"] * (width - 2)])
    yield case("non-finite", "infinity-literal", 422, f, raw(f'{{"{f}": [[{inf}]]}}'.encode()))
    yield case("non-finite", "float32-overflow", 422, f, {"json": {f: [[1e39, *row[1:]]]}})
    yield case("empty", "no-rows", 422, f, {"json": {f: []}})
    yield case("empty", "empty-row", 422, f, {"json": {f: [[]]}})
    yield case("empty", "empty-object", 422, f, {"json": {}})
    yield case("empty", "empty-body", 422, "body", raw(b""))
    yield case("missing", "null", 422, f, {"json": {f: None}})
    yield case("extra-field", "unknown-key", 422, "bogus", {"json": {f: [row], "bogus": 1}})
    yield case(OVERSIZE, "too-many-rows", 413, None, {"json": {f: [row] * (MAX_ROWS + 1)}})
    yield case(OVERSIZE, "body-over-limit", 413, None, oversize_json())
    yield case(OVERSIZE, "streamed-body-over-limit", 413, None, streamed_oversize_json())
    yield case(MEDIA_TYPE, "text-csv", 415, None, raw(b"0.5,0.5\n", "text/csv"))
    yield case(MEDIA_TYPE, "form", 415, None, {"data": {f: "0.5"}})
    yield case(MALFORMED_JSON, "truncated", 422, "body", raw(f'{{"{f}": [[0.5'.encode()))
    yield case(MALFORMED_NPY, "truncated", 422, f, raw(npy_bytes(np.ones((2, width)))[:60], NPY))
    yield case(MALFORMED_NPY, "not-npy", 422, f, raw(b"\x93NUMPY garbage", NPY))
    yield case(MALFORMED_NPY, "one-dimensional", 422, f, npy(np.ones(width, np.float32)))
    yield case(MALFORMED_NPY, "int32", 422, f, npy(np.ones((2, width), np.int32)))
    yield case(MALFORMED_NPY, "float16", 422, f, npy(np.ones((2, width), np.float16)))
    yield case(MALFORMED_NPY, "wrong-width", 422, f, npy(np.ones((2, width + 1), np.float32)))
    yield case(MALFORMED_NPY, "no-rows", 422, f, npy(np.ones((0, width), np.float32)))
    # a header alone that claims 8 TiB: refused, not allocated (MemoryError was a 500)
    yield case(MALFORMED_NPY, "header-claims-terabytes", 422, f,
               raw(npy_header((2**40, width)), NPY))  # fmt: skip
    nan_rows = np.ones((2, width), np.float32)
    nan_rows[1, 0] = np.nan
    yield case("non-finite", "npy-nan", 422, f, npy(nan_rows))
    yield case(OVERSIZE, "npy-too-many-rows", 413, None, npy(np.ones((MAX_ROWS + 1, width))))
    yield from _unknown_ref_cases("POST", route, op, good)


def _unknown_ref_cases(
    method: str, route: str, tail: str, good: dict[str, Any], *, archived: bool = True
) -> Iterator[Case]:
    """Unknown model, version, alias, a number past any version; an archived version
    (410: it is no longer served) unless `archived` is false (it may still be read)."""
    for label, name, ref, status in (
        ("model", "no-such-model", "1", 404),
        ("version", AE, "99", 404),
        ("version-past-int32", AE, str(2**40), 404),
        ("superscript-digit", AE, "\u00b2", 404),  # a digit to str.isdigit, not to int()
        ("alias", AE, "no-such-alias", 404),
        *([("archived-version", AE, str(ARCHIVED), 410)] if archived else []),
    ):
        url = f"/v1/models/{name}/versions/{ref}{'/' if tail else ''}{tail}"
        yield Case(method, route, url, UNKNOWN, label, status, None, good)


def inference_cases() -> Iterator[Case]:
    yield from _bad_row_cases("encode", "inputs", N_FEATURES)
    yield from _bad_row_cases("decode", "codings", CODE_SIZE)
    yield from _bad_row_cases("reconstruct", "inputs", N_FEATURES)
    yield from _bad_row_cases("score", "inputs", N_FEATURES)
    encode = (
        "POST",
        "/v1/models/{name}/versions/{ref}/encode",
        f"/v1/models/{AE}/versions/1/encode",
    )
    rows = [[0.5] * N_FEATURES]
    yield Case(*encode, "out-of-range", "sample-on-a-dense-model", 422, "sample",
               {"json": {"inputs": rows, "sample": True}})  # fmt: skip
    yield Case(*encode, "wrong-type", "sample-not-bool", 422, "sample",
               {"json": {"inputs": rows, "sample": "maybe"}})  # fmt: skip
    yield Case(*encode, "out-of-range", "negative-seed", 422, "seed",
               {"json": {"inputs": rows, "seed": -1}})  # fmt: skip
    vae_encode = (*encode[:2], f"/v1/models/{VAE}/versions/1/encode")
    yield Case(*vae_encode, "out-of-range", "vae-sample-negative-seed", 422, "seed",
               {"json": {"inputs": rows, "sample": True, "seed": -1}})  # fmt: skip
    yield Case(*vae_encode, "wrong-shape", "vae-too-wide", 422, "inputs",
               {"json": {"inputs": [[0.5] * 7], "sample": True}})  # fmt: skip
    score = f"/v1/models/{IMPORTED}/versions/1/score"
    yield Case("POST", "/v1/models/{name}/versions/{ref}/score", score, "out-of-range",
               "version-without-threshold", 422, "version", {"json": {"inputs": rows}})  # fmt: skip

    route = "/v1/models/{name}/versions/{ref}/generate"
    url = f"/v1/models/{AE}/versions/1/generate"
    for kind, label, status, name, request in (
        ("out-of-range", "n-zero", 422, "n", {"json": {"n": 0}}),
        ("out-of-range", "n-negative", 422, "n", {"json": {"n": -3}}),
        ("out-of-range", "n-over-limit", 422, "n", {"json": {"n": MAX_GENERATE + 1}}),
        ("out-of-range", "negative-seed", 422, "seed", {"json": {"seed": -1}}),
        ("wrong-type", "n-string", 422, "n", {"json": {"n": "many"}}),
        ("wrong-type", "n-fraction", 422, "n", {"json": {"n": 1.5}}),
        ("non-finite", "n-nan", 422, "n", raw(b'{"n": NaN}')),
        ("empty", "empty-body", 422, "body", raw(b"")),
        ("extra-field", "unknown-key", 422, "bogus", {"json": {"n": 2, "bogus": 1}}),
        (MALFORMED_JSON, "truncated", 422, "body", raw(b'{"n": ')),
        (MEDIA_TYPE, "npy", 415, None, npy(np.ones((2, CODE_SIZE), np.float32))),
        (MEDIA_TYPE, "text-plain", 415, None, raw(b"n=2", "text/plain")),
        (OVERSIZE, "body-over-limit", 413, None, oversize_json()),
    ):
        yield Case("POST", route, url, kind, label, status, name, request)
    yield Case("POST", route, f"/v1/models/{IMPORTED}/versions/1/generate", "out-of-range",
               "version-without-coding-stats", 422, "n", {"json": {"n": 2}})  # fmt: skip
    yield from _unknown_ref_cases("POST", route, "generate", {"json": {"n": 2}})

    route = "/v1/models/{name}/versions/{ref}/interpolate"
    url = f"/v1/models/{AE}/versions/1/interpolate"
    row = [0.5] * N_FEATURES
    nan_end = ", ".join(["NaN"] * N_FEATURES)
    for kind, label, status, name, request in (
        ("wrong-shape", "start-too-short", 422, "start", {"json": {"start": row[:-1], "end": row}}),
        ("wrong-shape", "end-too-long", 422, "end", {"json": {"start": row, "end": [*row, 1.0]}}),
        ("wrong-shape", "start-nested", 422, "start.0", {"json": {"start": [row], "end": row}}),
        ("wrong-type", "end-strings", 422, "end.0", {"json": {"start": row, "end": ["a"] * 6}}),
        ("non-finite", "end-nan", 422, "end",
         raw(f'{{"start": {json.dumps(row)}, "end": [{nan_end}]}}'.encode())),
        ("non-finite", "start-overflow", 422, "start",
         {"json": {"start": [1e39] * N_FEATURES, "end": row}}),
        ("empty", "start-empty", 422, "start", {"json": {"start": [], "end": row}}),
        ("missing", "no-end", 422, "end", {"json": {"start": row}}),
        ("out-of-range", "one-step", 422, "steps",
         {"json": {"start": row, "end": row, "steps": 1}}),
        ("out-of-range", "too-many-steps", 422, "steps",
         {"json": {"start": row, "end": row, "steps": MAX_STEPS + 1}}),
        ("wrong-type", "steps-string", 422, "steps",
         {"json": {"start": row, "end": row, "steps": "x"}}),
        ("extra-field", "unknown-key", 422, "bogus",
         {"json": {"start": row, "end": row, "bogus": 1}}),
        (MALFORMED_JSON, "truncated", 422, "body", raw(b'{"start": [')),
        (MEDIA_TYPE, "npy", 415, None, npy(np.ones((2, N_FEATURES), np.float32))),
        (OVERSIZE, "body-over-limit", 413, None, oversize_json()),
    ):  # fmt: skip
        yield Case("POST", route, url, kind, label, status, name, request)
    yield from _unknown_ref_cases(
        "POST", route, "interpolate", {"json": {"start": row, "end": row}}
    )


def oip_cases() -> Iterator[Case]:
    """/v2: errors are {"error": ...}; 400 for a bad request, 404 for unknown models."""
    for route, tail in (
        ("/v2/models/{name}", ""),
        ("/v2/models/{name}/ready", "/ready"),
    ):
        yield Case("GET", route, f"/v2/models/no-such-model{tail}", UNKNOWN, "model", 404)
        yield Case("GET", route, f"/v2/models/no-such-model.decoder{tail}", UNKNOWN, "decoder", 404)
    for route, tail in (
        ("/v2/models/{name}/versions/{version}", ""),
        ("/v2/models/{name}/versions/{version}/ready", "/ready"),
    ):
        for label, name, version in (
            ("model", "no-such-model", "1"),
            ("version", AE, "99"),
            ("alias", AE, "no-such-alias"),
            ("archived-version", AE, str(ARCHIVED)),
        ):
            url = f"/v2/models/{name}/versions/{version}{tail}"
            yield Case("GET", route, url, UNKNOWN, label, 404)

    def infer(inputs: Any, **extra: Any) -> dict[str, Any]:
        return {"json": {"inputs": inputs, **extra}}

    def tensor(data: Any, shape: list[int], name: str = "input", dtype: str = "FP32") -> dict:
        return {"name": name, "shape": shape, "datatype": dtype, "data": data}

    good = [tensor([0.5] * N_FEATURES, [1, N_FEATURES])]
    binary_head = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "shape": [1, N_FEATURES],
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": 4 * N_FEATURES},
                }
            ]
        }
    ).encode()
    blob = np.ones(N_FEATURES, "<f4").tobytes()
    cases: list[tuple[str, str, int, dict[str, Any]]] = [
        (MALFORMED_JSON, "truncated", 400, raw(b'{"inputs": [')),
        (MALFORMED_JSON, "not-json", 400, raw(b"\x00\x01", "application/octet-stream")),
        ("empty", "empty-body", 400, raw(b"")),
        ("empty", "no-inputs", 400, infer([])),
        ("missing", "inputs-missing", 400, {"json": {"id": "x"}}),
        ("wrong-type", "inputs-not-a-list", 400, infer("input")),
        ("wrong-type", "datatype-int32", 400, infer([tensor([1] * 6, [1, 6], dtype="INT32")])),
        ("wrong-type", "data-strings", 400, infer([tensor(["a"] * 6, [1, 6])])),
        ("wrong-shape", "wrong-width", 400, infer([tensor([0.5] * 7, [1, 7])])),
        ("wrong-shape", "one-dimensional", 400, infer([tensor([0.5] * 6, [6])])),
        ("wrong-shape", "zero-rows", 400, infer([tensor([], [0, 6])])),
        ("wrong-shape", "data-short-of-shape", 400, infer([tensor([0.5] * 6, [2, 6])])),
        ("wrong-shape", "negative-shape", 400, infer([tensor([0.5] * 6, [-1, 6])])),
        ("wrong-shape", "two-inputs", 400, infer([*good, *good])),
        ("wrong-shape", "wrong-input-name", 400, infer([tensor([0.5] * 6, [1, 6], "x")])),
        ("extra-field", "unknown-output", 400, infer(good, outputs=[{"name": "bogus"}])),
        ("non-finite", "nan", 400, raw(b'{"inputs": [{"name": "input", "shape": [1, 6], '
                                       b'"datatype": "FP32", "data": [NaN, 1, 1, 1, 1, 1]}]}')),
        ("non-finite", "overflow", 400, infer([tensor([1e39] * 6, [1, 6])])),
        (OVERSIZE, "too-many-rows", 400,
         infer([tensor([0.5] * 6 * (MAX_ROWS + 1), [MAX_ROWS + 1, 6])])),
        (OVERSIZE, "body-over-limit", 413, oversize_json()),
        (UNKNOWN, "shared-memory-region", 400,
         infer([{"name": "input", "shape": [1, 6], "datatype": "FP32",
                 "parameters": {"shared_memory_region": "nope",
                                "shared_memory_byte_size": 24}}])),
        (MALFORMED_NPY, "binary-size-mismatch", 400,
         {"content": binary_head + blob[:-4],
          "headers": {"inference-header-content-length": str(len(binary_head)),
                      "content-type": "application/octet-stream"}}),
        (MALFORMED_NPY, "binary-extra-bytes", 400,
         {"content": binary_head + blob + b"\x00" * 4,
          "headers": {"inference-header-content-length": str(len(binary_head)),
                      "content-type": "application/octet-stream"}}),
        (MALFORMED_NPY, "header-length-past-body", 400,
         {"content": binary_head,
          "headers": {"inference-header-content-length": "99999",
                      "content-type": "application/octet-stream"}}),
        (MALFORMED_NPY, "header-length-not-a-number", 400,
         {"content": binary_head,
          "headers": {"inference-header-content-length": "-1",
                      "content-type": "application/octet-stream"}}),
        (MALFORMED_NPY, "header-length-superscript-digit", 400,
         {"content": binary_head,
          "headers": {"inference-header-content-length": b"\xb2",
                      "content-type": "application/octet-stream"}}),
    ]  # fmt: skip
    for route, url in (
        ("/v2/models/{name}/infer", f"/v2/models/{AE}/infer"),
        ("/v2/models/{name}/versions/{version}/infer", f"/v2/models/{AE}/versions/1/infer"),
    ):
        for kind, label, status, request in cases:
            yield Case("POST", route, url, kind, label, status, None, request)
        decoder = url.replace(f"/{AE}/", f"/{AE}.decoder/")
        yield Case("POST", route, decoder, "wrong-shape", "decoder-given-rows", 400, None,
                   infer([tensor([0.5] * 6, [1, 6], "codings")]))  # fmt: skip
    yield Case("POST", "/v2/models/{name}/infer", "/v2/models/no-such-model/infer", UNKNOWN,
               "model", 404, None, infer(good))  # fmt: skip
    for label, version in (("version", "99"), ("alias", "nope"), ("archived", str(ARCHIVED))):
        yield Case("POST", "/v2/models/{name}/versions/{version}/infer",
                   f"/v2/models/{AE}/versions/{version}/infer", UNKNOWN, label, 404, None,
                   infer(good))  # fmt: skip


def shared_memory_cases() -> Iterator[Case]:
    """/v2/systemsharedmemory (on in this world): errors are the protocol's 400s."""
    region = "/v2/systemsharedmemory/region/{region}"
    yield Case("GET", f"{region}/status", "/v2/systemsharedmemory/region/nope/status", UNKNOWN,
               "region", 400)  # fmt: skip
    url = "/v2/systemsharedmemory/region/r/register"
    cases: list[tuple[str, str, int, dict[str, Any]]] = [
        (MALFORMED_JSON, "truncated", 400, raw(b'{"key": ')),
        (OVERSIZE, "body-over-limit", 413, oversize_json()),
        ("missing", "byte-size-missing", 400, {"json": {"key": "/x"}}),
        ("wrong-type", "key-a-number", 400, {"json": {"key": 3, "byte_size": 8}}),
        ("out-of-range", "byte-size-zero", 400, {"json": {"key": "/x", "byte_size": 0}}),
        ("out-of-range", "negative-offset", 400,
         {"json": {"key": "/x", "byte_size": 8, "offset": -1}}),
        ("out-of-range", "key-outside-dev-shm", 400,
         {"json": {"key": "/../etc/passwd", "byte_size": 8}}),
        (UNKNOWN, "no-such-object", 400,
         {"json": {"key": "/aesvc-matrix-no-such-object", "byte_size": 8}}),
    ]  # fmt: skip
    for kind, label, status, request in cases:
        yield Case("POST", f"{region}/register", url, kind, label, status, None, request)


def statistics_cases() -> Iterator[Case]:
    """/v2/models/.../stats: an unknown model or version is the protocol's 400."""
    yield Case("GET", "/v2/models/{name}/stats", "/v2/models/no-such-model/stats", UNKNOWN,
               "model", 400)  # fmt: skip
    route = "/v2/models/{name}/versions/{version}/stats"
    for label, name, version in (
        ("model", "no-such-model", "1"),
        ("version", AE, "99"),
        ("alias", AE, "no-such-alias"),
    ):
        yield Case("GET", route, f"/v2/models/{name}/versions/{version}/stats", UNKNOWN, label, 400)


def repository_cases() -> Iterator[Case]:
    """/v2/repository: a failed index, load or unload is the protocol's 400."""
    yield Case("POST", "/v2/repository/index", "/v2/repository/index", MALFORMED_JSON,
               "truncated", 400, None, raw(b'{"ready": '))  # fmt: skip
    yield Case("POST", "/v2/repository/index", "/v2/repository/index", OVERSIZE,
               "body-over-limit", 413, None, oversize_json())  # fmt: skip
    yield Case("POST", "/v2/repository/index", "/v2/repository/index", "wrong-type",
               "ready-a-string", 400, None, {"json": {"ready": "maybe"}})  # fmt: skip
    for action in ("load", "unload"):
        route = f"/v2/repository/models/{{name}}/{action}"
        url = f"/v2/repository/models/{AE}/{action}"
        cases: list[tuple[str, str, str, dict[str, Any]]] = [
            (UNKNOWN, "model", f"/v2/repository/models/no-such-model/{action}", {}),
            (MALFORMED_JSON, "truncated", url, raw(b'{"parameters": ')),
            (OVERSIZE, "body-over-limit", url, oversize_json()),
            ("extra-field", "unknown-parameter", url, {"json": {"parameters": {"config": "{}"}}}),
        ]
        if action == "load":
            cases += [
                (UNKNOWN, "version", url, {"json": {"parameters": {"version": "99"}}}),
                (UNKNOWN, "archived", url, {"json": {"parameters": {"version": str(ARCHIVED)}}}),
                ("wrong-type", "version-a-bool", url, {"json": {"parameters": {"version": True}}}),
            ]
        for kind, label, target, request in cases:
            status = 413 if kind == OVERSIZE else 400
            yield Case("POST", route, target, kind, label, status, None, request)


def upload(
    filename: str, data: bytes, content_type: str = "application/octet-stream", **form: str
) -> dict[str, Any]:
    return {"files": {"file": (filename, data, content_type)}, "data": {"name": "new", **form}}


def npy_header(shape: tuple[int, ...]) -> bytes:
    """An .npy file's header, for float32 `shape`, and none of its data."""
    out = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue()


def npz_bytes(X: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.savez_compressed(out, X=X)
    return out.getvalue()


def npz_with_bad_crc() -> bytes:
    out = io.BytesIO()
    np.savez(out, X=random_matrix(5, 3))  # stored, not deflated: the data lie in the clear
    data = bytearray(out.getvalue())
    data[data.index(b"NUMPY") + 130] ^= 0xFF  # a byte of X's values
    return bytes(data)


def parquet_zeros(*, rows: int, columns: int) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({f"c{i}": np.zeros(rows, np.float64) for i in range(columns)})
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def dataset_cases() -> Iterator[Case]:
    route = "/v1/datasets"
    X = random_matrix(5, 3)
    nan_rows = X.copy()
    nan_rows[2, 1] = np.nan
    ok = npy_bytes(X)
    for kind, label, status, name, request in (
        ("non-finite", "npy-nan", 422, "file", upload("x.npy", npy_bytes(nan_rows))),
        ("non-finite", "csv-inf", 422, "file", upload("x.csv", b"a,b\n1,2\n3,inf\n")),
        ("wrong-type", "csv-text-column", 422, "file.colour",
         upload("x.csv", b"a,colour\n1,red\n2,blue\n")),
        ("wrong-type", "npy-strings", 422, "file", upload("x.npy", npy_bytes(np.array([["a"]])))),
        ("wrong-shape", "npy-three-dimensional", 422, "file",
         upload("x.npy", npy_bytes(np.zeros((4, 2, 2), np.float32)))),
        ("wrong-shape", "one-row", 422, "file", upload("x.npy", npy_bytes(X[:1]))),
        ("wrong-shape", "image-shape-mismatch", 422, "image_shape",
         upload("x.npy", ok, image_shape="8,8,1")),
        ("wrong-type", "image-shape-words", 422, "image_shape",
         upload("x.npy", ok, image_shape="two,three")),
        ("empty", "empty-file", 422, "file", upload("x.csv", b"")),
        ("empty", "header-only", 422, "file", upload("x.csv", b"a,b\n")),
        ("empty", "zero-columns", 422, "file",
         upload("x.npy", npy_bytes(np.zeros((4, 0), np.float32)))),
        ("missing", "no-file", 422, "file", {"files": {"name": (None, "new")}}),
        (MEDIA_TYPE, "urlencoded-form", 415, None, {"data": {"name": "new"}}),
        ("missing", "no-name", 422, "name", {"files": {"file": ("x.npy", ok)}}),
        ("out-of-range", "bad-name", 422, "name", upload("x.npy", ok, name="a b/c")),
        ("out-of-range", "unknown-label-column", 422, "label_column",
         upload("x.csv", b"a,b\n1,2\n3,4\n", label_column="nope")),
        ("conflict", "name-taken", 409, None, upload("x.npy", ok, name=DATASET)),
        (MALFORMED_NPY, "truncated-npy", 422, "file", upload("x.npy", ok[:40] + b"garbage")),
        (MALFORMED_NPY, "npz-not-a-zip", 422, "file", upload("x.npz", b"PK\x03\x04garbage")),
        (MALFORMED_NPY, "parquet-garbage", 422, "file", upload("x.parquet", b"PAR1garbage")),
        (MALFORMED_NPY, "npz-bad-crc", 422, "file", upload("x.npz", npz_with_bad_crc())),
        (MALFORMED_NPY, "npy-header-claims-terabytes", 422, "file",
         upload("x.npy", npy_header((2**40, 10)))),
        (OVERSIZE, "npz-decodes-past-limit", 422, "file",
         upload("x.npz", npz_bytes(np.zeros((4000, 8), np.float32)))),
        (OVERSIZE, "parquet-decodes-past-limit", 422, "file",
         upload("x.parquet", parquet_zeros(rows=4000, columns=8))),
        ("conflict", "csv-repeated-column", 422, "file", upload("x.csv", b"a,a\n1,2\n3,4\n")),
        ("conflict", "csv-numeric-header-repeated", 422, "file",
         upload("x.csv", b"0,0,1\n1,2,3\n4,5,6\n", header="true")),
        ("conflict", "csv-numeric-first-row-undeclared", 422, "header",
         upload("x.csv", b"0,0,1\n1,2,3\n4,5,6\n")),
        ("out-of-range", "name-with-final-newline", 422, "name",
         upload("x.npy", ok, name="table\n")),
        ("out-of-range", "image-shape-wraps-int64", 422, "image_shape",
         upload("x.npy", ok, image_shape="288230376151711745,64,1")),
        (MALFORMED_MULTIPART, "not-multipart", 400, None, NOT_MULTIPART),
        (MALFORMED_MULTIPART, "no-boundary", 400, None, MULTIPART_WITHOUT_BOUNDARY),
        (MALFORMED_MULTIPART, "unterminated-part", 422, "file", UNTERMINATED_PART),
        (MEDIA_TYPE, "json-body", 415, None, {"json": {"name": "new"}}),
        (MEDIA_TYPE, "no-content-type", 415, None, raw(b"", "")),
        (MEDIA_TYPE, "unknown-extension", 415, None, upload("x.txt", b"a,b\n1,2\n3,4\n")),
        (MEDIA_TYPE, "mismatching-part-type", 415, None,
         upload("x.csv", b"a,b\n1,2\n3,4\n", "image/png")),
        (OVERSIZE, "file-over-limit", 413, None,
         upload("big.npy", npy_bytes(random_matrix(400, 8)))),
    ):  # fmt: skip
        yield Case("POST", route, route, kind, label, status, name, request)
    yield from _list_query_cases("/v1/datasets")
    for method in ("GET", "DELETE"):
        route = "/v1/datasets/{id_or_name}"
        yield Case(method, route, "/v1/datasets/no-such-dataset", UNKNOWN, "name", 404)
        yield Case(method, route, f"/v1/datasets/{NO_JOB}", UNKNOWN, "id", 404)
    yield Case("DELETE", route, f"/v1/datasets/{DATASET}", "conflict", "used-by-a-queued-job", 409)


def _list_query_cases(route: str, url: str | None = None) -> Iterator[Case]:
    url = url or route
    for label, params, name in (
        ("limit-zero", {"limit": 0}, "limit"),
        ("limit-over-max", {"limit": 1001}, "limit"),
        ("limit-not-a-number", {"limit": "ten"}, "limit"),
        ("offset-negative", {"offset": -1}, "offset"),
        ("offset-past-int64", {"offset": 2**63}, "offset"),
    ):
        yield Case("GET", route, url, BAD_QUERY, label, 422, name, {"params": params})


def job_cases() -> Iterator[Case]:
    route = "/v1/jobs"

    def body(**overrides: Any) -> dict[str, Any]:
        return {"json": job_body(**{"model_name": "new", "dataset": DATASET, **overrides})}

    for kind, label, status, name, request in (
        ("missing", "no-model-name", 422, "model_name",
         {"json": {"dataset": DATASET, "architecture": {"code_size": 2}}}),
        ("missing", "no-architecture", 422, "architecture",
         {"json": {"model_name": "new", "dataset": DATASET}}),
        ("out-of-range", "model-name-pattern", 422, "model_name", body(model_name="-bad name")),
        ("wrong-type", "code-size-string", 422, "architecture.code_size",
         body(architecture={"code_size": "four"})),
        ("out-of-range", "code-size-zero", 422, "architecture.code_size",
         body(architecture={"code_size": 0})),
        ("wrong-shape", "code-size-not-under-n-features", 422, "architecture.code_size",
         body(architecture={"code_size": N_FEATURES})),
        ("wrong-shape", "conv-without-image-shape", 422, "architecture.kind",
         body(architecture={"kind": "conv"})),
        ("wrong-shape", "too-many-hidden-layers", 422, "architecture.hidden_sizes",
         body(architecture={"hidden_sizes": [4] * 9})),
        ("out-of-range", "tied-weights-on-a-vae", 422, "architecture.tied_weights",
         body(architecture={"kind": "vae", "tied_weights": True})),
        ("out-of-range", "bce-on-standardized-data", 422, "training.loss",
         body(training={"loss": "bce"})),
        ("out-of-range", "epochs-zero", 422, "training.epochs", body(training={"epochs": 0})),
        ("out-of-range", "priority-too-high", 422, "priority", body(priority=1001)),
        ("wrong-type", "activation-unknown", 422, "architecture.activation",
         body(architecture={"activation": "swish"})),
        ("non-finite", "learning-rate-nan", 422, "training.learning_rate",
         raw(json.dumps(body(training={"learning_rate": float("nan")})["json"]).encode())),
        ("non-finite", "gradient-clip-infinity", 422, "training.gradient_clip_norm",
         raw(json.dumps(body(training={"gradient_clip_norm": float("inf")})["json"]).encode())),
        ("non-finite", "denoising-std-infinity", 422, "regularization.denoising.gaussian_std",
         raw(json.dumps(body(regularization={"denoising": {"gaussian_std": float("inf")}})[
             "json"]).encode())),
        ("extra-field", "unknown-key", 422, "bogus", body(bogus=1)),
        ("extra-field", "unknown-training-key", 422, "training.bogus",
         body(training={"bogus": 1})),
        ("empty", "empty-body", 422, "body", raw(b"")),
        ("empty", "empty-object", 422, "model_name", {"json": {}}),
        ("wrong-type", "body-is-a-list", 422, "body", {"json": [1]}),
        ("conflict", "idempotency-key-reused", 409, None,
         {**body(), "headers": {"idempotency-key": IDEMPOTENCY_KEY}}),
        ("out-of-range", "idempotency-key-too-long", 422, "Idempotency-Key",
         {**body(), "headers": {"idempotency-key": "k" * 256}}),
        (UNKNOWN, "dataset", 404, None, body(dataset="no-such-dataset")),
        (MALFORMED_JSON, "truncated", 422, "body", raw(b'{"model_name": "new",')),
        (MALFORMED_JSON, "trailing-garbage", 422, "body", raw(b'{"model_name": "new"} x')),
        (MEDIA_TYPE, "text-plain", 415, None,
         raw(json.dumps(body()["json"]).encode(), "text/plain")),
        (MEDIA_TYPE, "form", 415, None, {"data": {"model_name": "new", "dataset": DATASET}}),
        (OVERSIZE, "body-over-limit", 413, None, oversize_json()),
    ):  # fmt: skip
        yield Case("POST", route, route, kind, label, status, name, request)
    yield from _list_query_cases(route)
    yield Case("GET", route, route, BAD_QUERY, "status-unknown", 422, "status",
               {"params": {"status": "sleeping"}})  # fmt: skip
    for method, route in (
        ("GET", "/v1/jobs/{job_id}"),
        ("POST", "/v1/jobs/{job_id}/cancel"),
        ("GET", "/v1/jobs/{job_id}/events"),
        ("GET", "/v1/jobs/{job_id}/history"),
        ("GET", "/v1/jobs/{job_id}/plots/loss.png"),
    ):
        yield Case(method, route, route.replace("{job_id}", NO_JOB), UNKNOWN, "job", 404)
    events = "/v1/jobs/{job_id}/events"
    for label, after in (("after-negative", -1), ("after-past-int32", 2**31), ("after-text", "x")):
        yield Case("GET", events, "/v1/jobs/{job}/events", BAD_QUERY, label, 422, "after",
                   {"params": {"after": after}})  # fmt: skip


def registry_cases() -> Iterator[Case]:
    yield from _list_query_cases("/v1/models")
    yield Case("GET", "/v1/models", "/v1/models", BAD_QUERY, "name-contains-too-long", 422,
               "name_contains", {"params": {"name_contains": "x" * 129}})  # fmt: skip
    route = "/v1/models/{name}"
    for method in ("GET", "DELETE"):
        yield Case(method, route, "/v1/models/no-such-model", UNKNOWN, "model", 404)
    yield Case("DELETE", route, f"/v1/models/{AE}", "conflict", "queued-job", 409)
    url = f"/v1/models/{AE}"
    for kind, label, status, name, request in (
        (UNKNOWN, "model", 404, None, {"json": {"description": "x"}}),
        ("wrong-type", "description-number", 422, "description", {"json": {"description": 1}}),
        ("wrong-type", "tags-list", 422, "tags", {"json": {"tags": ["a"]}}),
        ("wrong-type", "tag-value-number", 422, "tags.team", {"json": {"tags": {"team": 1}}}),
        ("out-of-range", "description-too-long", 422, "description",
         {"json": {"description": "x" * 10_001}}),
        ("out-of-range", "tag-value-too-long", 422, "tags.team",
         {"json": {"tags": {"team": "x" * 1025}}}),
        ("out-of-range", "too-many-tags", 422, "tags",
         {"json": {"tags": {f"t{i}": "x" for i in range(65)}}}),
        ("extra-field", "unknown-key", 422, "bogus", {"json": {"bogus": 1}}),
        ("empty", "empty-body", 422, "body", raw(b"")),
        ("wrong-type", "body-is-a-list", 422, "body", {"json": []}),
        (MALFORMED_JSON, "truncated", 422, "body", raw(b'{"description": ')),
        (MEDIA_TYPE, "text-plain", 415, None, raw(b'{"description": "x"}', "text/plain")),
        (MEDIA_TYPE, "form", 415, None, {"data": {"description": "x"}}),
        (OVERSIZE, "body-over-limit", 413, None, oversize_json()),
    ):  # fmt: skip
        target = "/v1/models/no-such-model" if kind == UNKNOWN else url
        yield Case("PATCH", route, target, kind, label, status, name, request)

    route = "/v1/models/{name}/versions"
    yield Case("GET", route, "/v1/models/no-such-model/versions", UNKNOWN, "model", 404)
    yield from _list_query_cases(route, f"/v1/models/{AE}/versions")
    yield Case("GET", route, f"/v1/models/{AE}/versions", BAD_QUERY, "status-unknown", 422,
               "status", {"params": {"status": "deleted"}})  # fmt: skip
    yield from import_cases()

    yield from _unknown_ref_cases("GET", "/v1/models/{name}/versions/{ref}", "", {}, archived=False)
    route = "/v1/models/{name}/versions/{ref}"
    for kind, label, status, name, url in (
        (UNKNOWN, "model", 404, None, "/v1/models/no-such-model/versions/1"),
        (UNKNOWN, "version", 404, None, f"/v1/models/{AE}/versions/99"),
        (UNKNOWN, "archived", 410, None, f"/v1/models/{AE}/versions/{ARCHIVED}"),
        ("conflict", "alias-pins-its-version", 409, None, f"/v1/models/{AE}/versions/{ALIAS}"),
        (UNKNOWN, "zero", 404, None, f"/v1/models/{AE}/versions/0"),
        (UNKNOWN, "past-int32", 404, None, f"/v1/models/{AE}/versions/{2**31}"),
        ("conflict", "alias-points-at-it", 409, None, f"/v1/models/{AE}/versions/1"),
    ):
        yield Case("DELETE", route, url, kind, label, status, name)

    route = "/v1/models/{name}/versions/{ref}/artifact"
    yield from _unknown_ref_cases("GET", route, "artifact", {})
    url = f"/v1/models/{AE}/versions/1/artifact"
    for label, params, name in (
        ("format-unknown", {"format": "pickle"}, "format"),
        ("part-unknown", {"part": "middle"}, "part"),
    ):
        yield Case("GET", route, url, BAD_QUERY, label, 422, name, {"params": params})

    yield from _unknown_ref_cases("GET", "/v1/models/{name}/versions/{ref}/plots", "plots", {})
    for plot in ("reconstructions", "latent", "samples", "features", "scores"):
        route = f"/v1/models/{{name}}/versions/{{ref}}/plots/{plot}.png"
        yield from _unknown_ref_cases("GET", route, f"plots/{plot}.png", {})
    route = "/v1/models/{name}/versions/{ref}/plots/features.png"
    url = f"/v1/models/{AE}/versions/1/plots/features.png"
    yield Case("GET", route, url, UNKNOWN, "plot-for-tabular-data", 404)
    yield from alias_cases()


def import_cases() -> Iterator[Case]:
    route = "/v1/models/{name}/versions"
    url = f"/v1/models/{IMPORTED}/versions"
    blob, config = model_blob(seed=5, embed_config=False)
    nan_blob = _non_finite_blob()

    def part(data: bytes, **form: str) -> dict[str, Any]:
        return {"files": {"file": ("m.safetensors", data)}, "data": form}

    def config_with(**changes: Any) -> str:
        return json.dumps({**config, **changes})

    for kind, label, status, name, request in (
        (MALFORMED_NPY, "not-safetensors", 422, "file", part(b"garbage" * 10)),
        (MALFORMED_NPY, "header-length-past-end", 422, "file",
         part((10**6).to_bytes(8, "little") + b"{}")),
        ("empty", "empty-file", 422, "file", part(b"")),
        ("missing", "no-file", 422, "file", {"files": {"config": (None, json.dumps(config))}}),
        ("missing", "no-config", 422, "config", part(blob)),
        (MALFORMED_JSON, "config-not-json", 422, "config", part(blob, config="{nope")),
        ("wrong-type", "config-a-list", 422, "config", part(blob, config="[]")),
        ("wrong-type", "metrics-a-list", 422, "metrics",
         part(blob, config=json.dumps(config), metrics="[1]")),
        ("wrong-type", "metrics-threshold-a-word", 422, "metrics.threshold",
         part(blob, config=json.dumps(config), metrics='{"threshold": "high"}')),
        ("non-finite", "metrics-threshold-nan", 422, "metrics.threshold",
         part(blob, config=json.dumps(config), metrics='{"threshold": NaN}')),
        ("wrong-shape", "metrics-coding-mean-too-long", 422, "metrics.coding_mean",
         part(blob, config=json.dumps(config), metrics='{"coding_mean": [0.0, 1.0, 2.0]}')),
        ("wrong-shape", "metrics-coding-cov-not-square", 422, "metrics.coding_cov",
         part(blob, config=json.dumps(config), metrics='{"coding_cov": [[1.0]]}')),
        ("out-of-range", "format-version", 422, "config.format_version",
         part(blob, config=config_with(format_version=99))),
        ("out-of-range", "n-features-zero", 422, "config.n_features",
         part(blob, config=config_with(n_features=0))),
        ("wrong-shape", "tensors-do-not-fit", 422, "file",
         part(blob, config=config_with(n_features=N_FEATURES + 1))),
        ("wrong-shape", "image-shape-not-a-triple", 422, "config.image_shape",
         part(blob, config=config_with(image_shape=[2, 3]))),
        ("wrong-type", "spec-code-size-string", 422, "config.spec.architecture.code_size",
         part(blob, config=config_with(spec={"architecture": {"code_size": "two"}}))),
        ("non-finite", "nan-weights", 422, "file", part(nan_blob, config=json.dumps(config))),
        (MALFORMED_MULTIPART, "not-multipart", 400, None, NOT_MULTIPART),
        (MALFORMED_MULTIPART, "no-boundary", 400, None, MULTIPART_WITHOUT_BOUNDARY),
        (MALFORMED_MULTIPART, "unterminated-part", 422, "file", UNTERMINATED_PART),
        (MEDIA_TYPE, "json-body", 415, None, {"json": {"config": config}}),
        (OVERSIZE, "body-over-limit", 413, None, part(b"\x00" * (MAX_BODY_BYTES + 1))),
    ):  # fmt: skip
        yield Case("POST", route, url, kind, label, status, name, request)
    yield Case("POST", route, "/v1/models/-bad%20name/versions", "out-of-range", "model-name",
               422, "name", part(blob, config=json.dumps(config)))  # fmt: skip


def _non_finite_blob() -> bytes:
    from safetensors.torch import load, save

    blob, _ = model_blob(seed=6, embed_config=False)
    tensors = load(blob)
    first = next(k for k, v in tensors.items() if v.is_floating_point() and v.numel())
    tensors[first] = tensors[first].clone()
    tensors[first].view(-1)[0] = float("nan")
    return save(tensors)


def alias_cases() -> Iterator[Case]:
    route = "/v1/models/{name}/aliases/{alias}"
    base = f"/v1/models/{AE}/aliases"
    for method in ("GET", "DELETE"):
        yield Case(method, route, "/v1/models/no-such-model/aliases/prod", UNKNOWN, "model", 404)
        yield Case(method, route, f"{base}/no-such-alias", UNKNOWN, "alias", 404)
        yield Case(method, route, f"{base}/{'a' * 65}", "bad-alias", "too-long", 422, "alias")
    yield Case("DELETE", route, f"{base}/latest", "bad-alias", "latest", 422, "alias")
    yield Case("DELETE", route, f"{base}/1abc", "bad-alias", "starts-with-a-digit", 422, "alias")
    for kind, label, status, name, url, request in (
        (UNKNOWN, "model", 404, None, "/v1/models/no-such-model/aliases/prod", {"version": 1}),
        (UNKNOWN, "version-missing", 404, None, f"{base}/{ALIAS}", {"version": 99}),
        ("conflict", "version-archived", 409, None, f"{base}/{ALIAS}", {"version": ARCHIVED}),
        ("bad-alias", "latest", 422, "alias", f"{base}/latest", {"version": 1}),
        ("bad-alias", "number", 422, "alias", f"{base}/7", {"version": 1}),
        ("bad-alias", "starts-with-a-dash", 422, "alias", f"{base}/-x", {"version": 1}),
        ("bad-alias", "dot", 422, "alias", f"{base}/a.b", {"version": 1}),
        ("bad-alias", "too-long", 422, "alias", f"{base}/{'a' * 65}", {"version": 1}),
        ("out-of-range", "version-zero", 422, "version", f"{base}/{ALIAS}", {"version": 0}),
        ("out-of-range", "version-past-int32", 422, "version", f"{base}/{ALIAS}",
         {"version": 2**31}),
        ("wrong-type", "version-string", 422, "version", f"{base}/{ALIAS}", {"version": "two"}),
        ("wrong-type", "version-fraction", 422, "version", f"{base}/{ALIAS}", {"version": 1.5}),
        ("missing", "no-version", 422, "version", f"{base}/{ALIAS}", {}),
        ("extra-field", "unknown-key", 422, "bogus", f"{base}/{ALIAS}",
         {"version": 2, "bogus": 1}),
    ):  # fmt: skip
        yield Case("PUT", route, url, kind, label, status, name, {"json": request})
    for kind, label, status, name, request in (
        ("non-finite", "version-nan", 422, "version", raw(b'{"version": NaN}')),
        ("empty", "empty-body", 422, "body", raw(b"")),
        (MALFORMED_JSON, "truncated", 422, "body", raw(b'{"version": ')),
        (MEDIA_TYPE, "text-plain", 415, None, raw(b'{"version": 2}', "text/plain")),
        (OVERSIZE, "body-over-limit", 413, None, oversize_json()),
    ):
        yield Case("PUT", route, f"{base}/{ALIAS}", kind, label, status, name, request)
    route = "/v1/models/{name}/aliases/{alias}/history"
    yield Case("GET", route, "/v1/models/no-such-model/aliases/prod/history", UNKNOWN, "model", 404)
    yield Case("GET", route, f"{base}/never-set/history", UNKNOWN, "alias", 404)
    yield Case("GET", route, f"{base}/latest/history", "bad-alias", "latest", 422, "alias")
    yield Case("GET", route, f"{base}/{'a' * 65}/history", "bad-alias", "too-long", 422, "alias")
    yield from _list_query_cases(route, f"{base}/{ALIAS}/history")


def ui_cases() -> Iterator[Case]:
    route = "/ui/static/{filename}"
    yield Case("GET", route, "/ui/static/no-such-file.js", UNKNOWN, "file", 404)
    yield Case("GET", route, "/ui/static/index.html", UNKNOWN, "not-an-asset", 404)
    yield Case("GET", route, "/ui/static/..%2F__init__.py", UNKNOWN, "traversal", 404)


CASES: list[Case] = [
    *dataset_cases(),
    *job_cases(),
    *registry_cases(),
    *inference_cases(),
    *oip_cases(),
    *shared_memory_cases(),
    *repository_cases(),
    *statistics_cases(),
    *ui_cases(),
]


# -- the world ----------------------------------------------------------------------------


Snapshot = tuple[dict[str, list[str]], dict[str, tuple[int, str]]]


@dataclass
class World:
    client: TestClient
    settings: Settings
    engine: Engine
    metadata: MetaData
    ids: dict[str, str]

    def snapshot(self) -> Snapshot:
        """Every row of every table, and every file under the data dir (size, sha256)."""
        rows: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for table in self.metadata.sorted_tables:
                rows[table.name] = sorted(repr(tuple(r)) for r in conn.execute(select(table)))
        files: dict[str, tuple[int, str]] = {}
        roots = {self.settings.data_dir.resolve(), self.settings.resolved_artifact_root}
        for root in roots:
            for path in sorted(root.rglob("*")):
                if path.is_file() and not _sqlite_file(path):
                    data = path.read_bytes()
                    files[str(path)] = (len(data), hashlib.sha256(data).hexdigest())
        return rows, files


def _sqlite_file(path: Path) -> bool:
    # The SQLite database and its -wal/-shm/-journal files: their content is compared
    # row by row above. Their bytes change on plain reads (the WAL index in -shm, and a
    # checkpoint that copies committed pages from the WAL into the main file), so
    # comparing them byte by byte would flag requests that wrote nothing.
    return ".db" in path.name and path.name.split(".db")[-1] in ("", "-wal", "-shm", "-journal")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("bad-input")
    with (
        module_settings(
            tmp / "var",
            builtin_datasets=False,
            max_upload_bytes=MAX_UPLOAD_BYTES,
            max_body_bytes=MAX_BODY_BYTES,
            max_request_rows=MAX_ROWS,
            max_generate=MAX_GENERATE,
            max_interpolate_steps=MAX_STEPS,
            ref_cache_s=0,
            oip_shared_memory=True,
        ) as settings,
        TestClient(create_app(settings, start_workers=False)) as client,
    ):
        ids = _seed(client, settings)
        engine = client.app.state.ctx.engine  # type: ignore[attr-defined]
        metadata = MetaData()
        metadata.reflect(engine)
        yield World(client, settings, engine, metadata, ids)


def _seed(client: TestClient, settings: Settings) -> dict[str, str]:
    data = npy_bytes(random_matrix(60, N_FEATURES, seed=3))
    response = client.post("/v1/datasets", files={"file": ("ds.npy", data)}, data={"name": DATASET})
    assert response.status_code == 201, response.text
    tiny = {"architecture": {"hidden_sizes": [8]}, "training": {"epochs": 2, "batch_size": 32}}
    bodies = [
        job_body(model_name=AE, dataset=DATASET, code_size=CODE_SIZE, **tiny),
        job_body(model_name=AE, dataset=DATASET, code_size=CODE_SIZE, priority=-1, **tiny),
        job_body(model_name=VAE, dataset=DATASET, code_size=CODE_SIZE, priority=-2, **tiny)
        | {"architecture": {"kind": "vae", "code_size": CODE_SIZE, "hidden_sizes": [8]}},
    ]
    first = client.post("/v1/jobs", json=bodies[0], headers={"idempotency-key": IDEMPOTENCY_KEY})
    assert first.status_code == 202, first.text
    for body in bodies[1:]:
        assert client.post("/v1/jobs", json=body).status_code == 202
    assert run_worker(settings, max_jobs=3) == 3
    for name, version in ((AE, 1), (AE, 2), (VAE, 1)):
        assert client.get(f"/v1/models/{name}/versions/{version}").status_code == 200
    import_model(client, AE, seed=1)  # version 3, archived below
    assert client.delete(f"/v1/models/{AE}/versions/{ARCHIVED}").status_code == 204
    import_model(client, IMPORTED, seed=2)  # no threshold, no coding statistics
    alias = client.put(f"/v1/models/{AE}/aliases/{ALIAS}", json={"version": 1})
    assert alias.status_code == 200, alias.text
    queued = client.post("/v1/jobs", json=bodies[0])  # never run: it keeps ds and ae busy
    assert queued.status_code == 202, queued.text
    return {"job": first.json()["id"], "queued": queued.json()["id"]}


# -- the checks ---------------------------------------------------------------------------


def check_answer(response: httpx.Response, case: Case) -> None:
    assert response.status_code == case.status, response.text
    content_type = response.headers.get("content-type", "")
    if case.oip:
        assert content_type == "application/json", response.text
        body = response.json()
        assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
        return
    assert content_type == PROBLEM_JSON, response.text
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert body["status"] == case.status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]
    if case.status == 422:
        fields = [e["field"] for e in body.get("errors") or []]
        assert case.field in fields, (case.field, body)
        assert body["detail"].startswith(f"{fields[0]}:"), body
    if case.status == 413:
        assert body.get("limit_bytes") or body.get("limit_rows"), body


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(world: World, case: Case) -> None:
    before = world.snapshot()
    url = case.url.format(**world.ids)
    response = world.client.request(case.method, url, **case.request)
    check_answer(response, case)
    after = world.snapshot()
    assert after[0] == before[0], "a database row changed"
    assert after[1] == before[1], "a file under the data dir changed"


# An operation whose path names what it creates has no "unknown" case; a bad name is
# its path case (kind out-of-range). Unregistering a region that is not registered is no
# error (the shared memory extension's unregister is idempotent, as Triton's).
CREATES_ITS_PATH = {
    ("POST", "/v1/models/{name}/versions"),
    ("POST", "/v2/systemsharedmemory/region/{region}/register"),
    ("POST", "/v2/systemsharedmemory/region/{region}/unregister"),
}


def test_the_matrix_covers_every_operation(world: World) -> None:
    """Each operation that takes input has a case of every kind that applies to it."""
    schema = world.client.app.openapi()  # type: ignore[attr-defined]
    kinds: dict[tuple[str, str], set[str]] = {}
    for case in CASES:
        kinds.setdefault((case.method, case.route), set()).add(case.kind)
    missing: list[str] = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            params = operation.get("parameters", [])
            body = operation.get("requestBody", {}).get("content", {})
            if not params and not body:
                continue
            key = (method.upper(), path)
            have = kinds.get(key, set())
            wanted = set()
            if any(p["in"] == "path" for p in params) and key not in CREATES_ITS_PATH:
                wanted.add(UNKNOWN)
            if any(p["in"] == "query" for p in params):
                wanted.add(BAD_QUERY)
            if body:
                wanted.add(OVERSIZE)
                if not path.startswith("/v2"):  # OIP reads any body as its JSON header
                    wanted.add(MEDIA_TYPE)
            if "application/json" in body:
                wanted.add(MALFORMED_JSON)
            if "multipart/form-data" in body:
                wanted.add(MALFORMED_MULTIPART)
            if NPY in body or "application/octet-stream" in body:
                wanted.add(MALFORMED_NPY)
            if body and not have & (BODY_KINDS - {OVERSIZE, MEDIA_TYPE, MALFORMED_JSON}):
                missing.append(f"{method.upper()} {path}: no case with a wrong body value")
            missing += [f"{method.upper()} {path}: no {kind!r} case" for kind in wanted - have]
    assert not missing, "\n".join(missing)
    declared = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    stale = sorted({(c.method, c.route) for c in CASES} - declared)
    assert not stale, f"cases for operations the schema does not have: {stale}"


@pytest.fixture(scope="module")
def guarded(world: World) -> Iterator[TestClient]:
    """A second app on the same database and store, with API keys required."""
    settings = world.settings.model_copy(update={"auth": "required"})
    with TestClient(create_app(settings, start_workers=False)) as client:
        yield client


BAD_KEYS = {
    "none": {},
    "not-a-service-key": {"authorization": "Bearer hunter2"},
    "unknown-key": {"authorization": "Bearer aesvc_000000000000_secret"},
    "empty-bearer": {"authorization": "Bearer "},
    "x-api-key-unknown": {"x-api-key": "aesvc_000000000000_secret"},
}
GUARDED_WRITES = {
    "create_job": ("POST", "/v1/jobs", {"json": job_body(dataset=DATASET, code_size=2)}),
    "set_model_alias": ("PUT", f"/v1/models/{AE}/aliases/{ALIAS}", {"json": {"version": 2}}),
    "delete_model_version": ("DELETE", f"/v1/models/{AE}/versions/2", {}),
    "encode": ("POST", f"/v1/models/{AE}/versions/1/encode", {"json": {"inputs": [[0.5] * 6]}}),
    "create_dataset": (
        "POST",
        "/v1/datasets",
        upload("x.npy", npy_bytes(random_matrix(4, 3)), name="keyless"),
    ),
}


@pytest.mark.parametrize("key", BAD_KEYS)
@pytest.mark.parametrize("operation", GUARDED_WRITES)
def test_a_bad_api_key_is_401_and_changes_nothing(
    world: World, guarded: TestClient, operation: str, key: str
) -> None:
    method, url, request = GUARDED_WRITES[operation]
    before = world.snapshot()
    response = guarded.request(method, url, headers=BAD_KEYS[key], **request)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401
    assert world.snapshot() == before


def test_the_snapshot_sees_a_row_and_a_file(world: World) -> None:
    """The footprint check can fail: a good upload shows in both halves, and deleting it
    restores both."""
    before = world.snapshot()
    assert before[0]["dataset"] and before[0]["model_version"] and before[1]
    assert set(before[0]) >= {t.name for t in Base.metadata.sorted_tables}
    data = npy_bytes(random_matrix(4, 3, seed=9))
    response = world.client.post(
        "/v1/datasets", files={"file": ("c.npy", data)}, data={"name": "canary"}
    )
    assert response.status_code == 201, response.text
    during = world.snapshot()
    assert during[0]["dataset"] != before[0]["dataset"]
    assert len(during[1]) == len(before[1]) + 1
    assert world.client.delete("/v1/datasets/canary").status_code == 204
    assert world.snapshot() == before
