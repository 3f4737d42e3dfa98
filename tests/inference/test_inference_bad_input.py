"""The bad-input matrix (tests/bad_input.py) for the v1 inference routes: encode, decode,
reconstruct, score, generate, interpolate."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest

from tests.bad_input import (
    AE,
    CODE_SIZE,
    IMPORTED,
    MALFORMED_JSON,
    MALFORMED_NPY,
    MAX_GENERATE,
    MAX_ROWS,
    MAX_STEPS,
    MEDIA_TYPE,
    N_FEATURES,
    NPY,
    OVERSIZE,
    VAE,
    Case,
    World,
    assert_refused_and_unchanged,
    npy,
    npy_header,
    oversize_json,
    raw,
    streamed_oversize_json,
    unknown_ref_cases,
)
from tests.factories import npy_bytes


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
    yield from unknown_ref_cases("POST", route, op, good)


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
    yield from unknown_ref_cases("POST", route, "generate", {"json": {"n": 2}})

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
    yield from unknown_ref_cases("POST", route, "interpolate", {"json": {"start": row, "end": row}})


CASES: list[Case] = [*inference_cases()]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(bad_input_world: World, case: Case) -> None:
    assert_refused_and_unchanged(bad_input_world, case)
