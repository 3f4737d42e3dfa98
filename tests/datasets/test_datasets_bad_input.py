"""The bad-input matrix (tests/bad_input.py) for the datasets: upload, list, read, delete."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest

from tests.bad_input import (
    BAD_QUERY,
    DATASET,
    MALFORMED_MULTIPART,
    MALFORMED_NPY,
    MEDIA_TYPE,
    MULTIPART_WITHOUT_BOUNDARY,
    NO_JOB,
    NOT_MULTIPART,
    OVERSIZE,
    UNKNOWN,
    UNTERMINATED_PART,
    Case,
    World,
    assert_refused_and_unchanged,
    list_query_cases,
    npy_header,
    raw,
    upload,
)
from tests.factories import npy_bytes, random_matrix


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
    yield from list_query_cases("/v1/datasets")
    yield Case("GET", "/v1/datasets", "/v1/datasets", BAD_QUERY, "view-unknown", 422, "view",
               {"params": {"view": "FULL"}})  # fmt: skip
    for method in ("GET", "DELETE"):
        route = "/v1/datasets/{id_or_name}"
        yield Case(method, route, "/v1/datasets/no-such-dataset", UNKNOWN, "name", 404)
        yield Case(method, route, f"/v1/datasets/{NO_JOB}", UNKNOWN, "id", 404)
    yield Case("DELETE", route, f"/v1/datasets/{DATASET}", "conflict", "used-by-a-queued-job", 409)
    yield Case("GET", route, f"/v1/datasets/{DATASET}", BAD_QUERY, "view-unknown", 422, "view",
               {"params": {"view": "everything"}})  # fmt: skip
    route = "/v1/datasets/{id_or_name}/data"
    yield Case("GET", route, "/v1/datasets/no-such-dataset/data", UNKNOWN, "name", 404)
    yield Case("GET", route, f"/v1/datasets/{DATASET}/data", BAD_QUERY, "format-unknown", 422,
               "format", {"params": {"format": "csv"}})  # fmt: skip


CASES: list[Case] = [*dataset_cases()]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(bad_input_world: World, case: Case) -> None:
    assert_refused_and_unchanged(bad_input_world, case)
