"""The bad-input matrix (tests/bad_input.py) for the Open Inference Protocol (/v2): model
metadata and readiness, infer, system shared memory, statistics, repository. Its errors
are {"error": ...}, not problem+json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.bad_input import (
    AE,
    ARCHIVED,
    BAD_QUERY,
    MALFORMED_JSON,
    MALFORMED_NPY,
    MAX_ROWS,
    N_FEATURES,
    OVERSIZE,
    UNKNOWN,
    Case,
    World,
    assert_refused_and_unchanged,
    oversize_json,
    raw,
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
        # an integer past float64's range: numpy raises OverflowError, not ValueError
        ("non-finite", "integer-overflow", 400, infer([tensor([10**400] + [1] * 5, [1, 6])])),
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
    for route, url in (
        ("/v2/models/stats", "/v2/models/stats"),
        ("/v2/models/{name}/stats", f"/v2/models/{AE}/stats"),
    ):
        for label, params in (
            ("limit-zero", {"limit": 0}),
            ("limit-past-1000", {"limit": 1001}),
            ("limit-text", {"limit": "many"}),
            ("page-token-garbage", {"page_token": "not-a-token"}),
        ):
            yield Case("GET", route, url, BAD_QUERY, label, 400, None, {"params": params})
    yield Case("POST", "/v2/repository/index", "/v2/repository/index", "out-of-range",
               "limit-zero", 400, None, {"json": {"limit": 0}})  # fmt: skip
    yield Case("POST", "/v2/repository/index", "/v2/repository/index", "wrong-type",
               "page-token-garbage", 400, None, {"json": {"page_token": "x"}})  # fmt: skip
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


CASES: list[Case] = [*oip_cases(), *shared_memory_cases(), *statistics_cases(), *repository_cases()]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(bad_input_world: World, case: Case) -> None:
    assert_refused_and_unchanged(bad_input_world, case)
