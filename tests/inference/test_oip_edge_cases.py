"""/v2 at its edges: counts of many digits (a header length, a version), a body of many
wrong items parsed in the pool, an output named twice, flags that are not booleans, a
compressed body, and docs/oip.md's shared memory example."""

from __future__ import annotations

import gzip
import json
import pickle
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.inference.oip.schemas import parse_infer_request
from service.json_bodies import MAX_RAW_ERRORS
from tests.inference.conftest import DIGITS, data_dir, served, trained_dir  # noqa: F401

ROWS = DIGITS[:4].astype(np.float32)
INFER = "/v2/models/digits-ae/versions/1/infer"
HEADER = "Inference-Header-Content-Length"
HUGE_REF = "1" * 5000  # digits: past Python's 4300-digit int() limit, in a 5 kB URL


def tensor(name: str, array: np.ndarray) -> dict[str, Any]:
    return {
        "name": name,
        "datatype": "FP32",
        "shape": list(array.shape),
        "data": array.reshape(-1).tolist(),
    }


@pytest.fixture(scope="module")
def lenient(served: TestClient) -> TestClient:  # noqa: F811
    """The module's app, answering a 500 instead of raising it into the test."""
    return TestClient(served.app, raise_server_exceptions=False)


def test_header_length_with_many_digits_is_a_400_not_a_500(lenient: TestClient) -> None:
    """A header value of digits (leading zeros) past 4300 digits: int() raises ValueError."""
    body = json.dumps({"inputs": [tensor("input", ROWS)]}).encode()
    value = "0" * 4400 + str(len(body))  # the same number, as the header's digits allow
    response = lenient.post(INFER, content=body, headers={HEADER: value})
    assert response.status_code in (200, 400), response.text
    assert "error" in response.json() or "outputs" in response.json()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", f"/v2/models/digits-ae/versions/{HUGE_REF}", 404),
        ("GET", f"/v2/models/digits-ae/versions/{HUGE_REF}/ready", 404),
        ("POST", f"/v2/models/digits-ae/versions/{HUGE_REF}/infer", 404),
        ("GET", f"/v2/models/digits-ae/versions/{HUGE_REF}/stats", 400),
    ],
    ids=["metadata", "ready", "infer", "stats"],
)
def test_a_version_of_many_digits_is_unknown_not_a_500(
    lenient: TestClient, method: str, path: str, status: int
) -> None:
    body = {"inputs": [tensor("input", ROWS)]} if method == "POST" else None
    response = lenient.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert "error" in response.json()


def test_loading_a_version_of_many_digits_is_a_400_not_a_500(lenient: TestClient) -> None:
    body = {"parameters": {"version": HUGE_REF}}
    response = lenient.post("/v2/repository/models/digits-ae/load", json=body)
    assert response.status_code == 400, response.text


def test_the_parse_pool_sends_back_a_bounded_list_of_errors() -> None:
    """A large v2 body (>= AESVC_JSON_OFF_LOOP_BYTES) is parsed in the pool; its errors come
    back pickled and are unpickled on the event loop. One error per bad list item and no
    cap: an 8 MB `{"inputs": [0,0,...]}` sends back 4M errors (470 MB pickled, ~20 s to
    unpickle on the loop, ~9.5 GB RSS). v1's pool keeps MAX_RAW_ERRORS of them."""
    body = b'{"inputs":[' + b",".join([b"0"] * 5000) + b"]}"
    errors = parse_infer_request(body)
    assert isinstance(errors, list)
    assert len(errors) <= MAX_RAW_ERRORS
    # nor may one error carry the whole (large) input back to the loop
    big = {"inputs": [{"name": "input", "shape": [1, 64], "data": [0.5] * 200_000}]}
    errors = parse_infer_request(json.dumps(big).encode())  # no datatype: one error
    assert isinstance(errors, list)
    assert len(pickle.dumps(errors)) < 100_000


def test_an_output_named_twice_is_refused(served: TestClient) -> None:  # noqa: F811
    """Each duplicate is answered again in full: 2,000 `{"name": "reconstruction"}` entries
    (~70 kB of JSON) over a 16 MiB input answer 32 GB. Triton refuses a repeated output."""
    body = {
        "inputs": [tensor("input", ROWS)],
        "outputs": [{"name": "reconstruction"}, {"name": "reconstruction"}],
    }
    response = served.post(INFER, json=body)
    assert response.status_code == 400, response.text
    assert "reconstruction" in response.json()["error"]


def test_duplicates_multiply_the_answer(served: TestClient) -> None:  # noqa: F811
    """The amplification itself: 200 repeats of one output over 64 rows (16 kB of input)."""
    x = DIGITS[:64].astype(np.float32)
    head = {
        "inputs": [
            {
                "name": "input",
                "datatype": "FP32",
                "shape": [64, 64],
                "parameters": {"binary_data_size": x.nbytes},
            }
        ],
        "outputs": [{"name": "reconstruction", "parameters": {"binary_data": True}}] * 200,
    }
    raw = json.dumps(head).encode()
    request = raw + x.tobytes()
    response = served.post(
        INFER,
        content=request,
        headers={HEADER: str(len(raw)), "content-type": "application/octet-stream"},
    )
    assert response.status_code == 400 or len(response.content) < 10 * len(request)


@pytest.mark.parametrize("flag", ["binary_data", "binary_data_output"])
def test_binary_flags_that_are_not_booleans_are_refused(
    served: TestClient,  # noqa: F811
    flag: str,
) -> None:
    """`"false"` (a string) turns binary output on: a JSON-only client then reads a body it
    cannot parse. The protocol's flags are booleans."""
    body: dict[str, Any] = {"inputs": [tensor("input", ROWS)]}
    if flag == "binary_data":
        body["outputs"] = [{"name": "codings", "parameters": {"binary_data": "false"}}]
    else:
        body["outputs"] = [{"name": "codings"}]
        body["parameters"] = {"binary_data_output": "false"}
    response = served.post(INFER, json=body)
    assert response.status_code == 400, response.headers
    assert flag in response.json()["error"]


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_request_body_is_read(served: TestClient, encoding: str) -> None:  # noqa: F811
    """tritonclient's infer(..., request_compression_algorithm=...) sends the body gzip'd or
    zlib-deflated with its Content-Encoding, as Triton reads it."""
    body = json.dumps({"inputs": [tensor("input", ROWS)], "outputs": [{"name": "codings"}]})
    packed = gzip.compress(body.encode()) if encoding == "gzip" else zlib.compress(body.encode())
    response = served.post(
        INFER,
        content=packed,
        headers={"Content-Encoding": encoding, "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["shape"][0] == len(ROWS)


def test_an_unknown_encoding_is_415_and_a_bomb_413(served: TestClient) -> None:  # noqa: F811
    body = json.dumps({"inputs": [tensor("input", ROWS)]}).encode()
    unknown = served.post(INFER, content=body, headers={"Content-Encoding": "br"})
    assert unknown.status_code == 415 and "br" in unknown.json()["error"]
    limit = served.app.state.ctx.settings.max_body_bytes
    bomb = gzip.compress(b" " * (limit + 1))  # a few kB that inflate past the body limit
    assert len(bomb) < limit // 100
    response = served.post(INFER, content=bomb, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413, response.text
    cut = served.post(
        INFER, content=gzip.compress(body)[:-12], headers={"Content-Encoding": "gzip"}
    )
    assert cut.status_code == 400 and "gzip" in cut.json()["error"]


def test_the_docs_shared_memory_example_names_objects_the_service_takes() -> None:
    """docs/oip.md's tritonclient example: every key it registers has the prefix the
    registry asks of a key (AESVC_OIP_SHARED_MEMORY_PREFIX's default)."""
    from service.config import Settings

    docs = (Path(__file__).resolve().parents[2] / "docs" / "oip.md").read_text()
    keys = re.findall(r'register_system_shared_memory\("\w+", "([^"]+)"', docs)
    assert len(keys) == 2, keys
    prefix = Settings().oip_shared_memory_prefix
    assert all(key.lstrip("/").startswith(prefix) for key in keys), (keys, prefix)
