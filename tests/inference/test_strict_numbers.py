"""Numbers only as JSON numbers: a numeric string or a boolean where an inference body takes
a number is refused, not read as one; a boolean is only true or false.

pydantic's lax mode read "1e5" as 100000.0 and true as 1.0 in v1 rows, "16" as 16 for
generate's n, and numpy read the same in an OIP tensor's data. Now v1 answers a 422 that
names the field, OIP a 400 that names the input, the same whether the body is parsed on the
loop or, past AESVC_JSON_OFF_LOOP_BYTES, in the parse pool. A JSON integer is still a float,
1e5 written as a JSON number still a number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.inference.conftest import CODE_SIZE, settings_for

pytestmark = pytest.mark.any_database  # the server's memory and parsing, not its database

OFF_LOOP = 8192  # bodies this large or larger are parsed in the pool
V1 = "/v1/models/digits-ae/versions/1"
VAE = "/v1/models/digits-vae/versions/1"
ROW, CODING = [0.5] * 64, [0.5] * CODE_SIZE
PATHS = ["loop", "pool"]
NOT_NUMBERS = pytest.mark.parametrize("value", ["1e5", "0.5", True, False])


@pytest.fixture(scope="module")
def client(data_dir: Path) -> Iterator[TestClient]:
    settings = settings_for(data_dir, json_off_loop_bytes=OFF_LOOP)
    with TestClient(create_app(settings, start_workers=False)) as client:
        yield client


@pytest.fixture
def pooled(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the parse functions the pool ran during the test."""
    pool = client.app.state.ctx.json_bodies
    calls: list[str] = []
    run = pool.run

    async def spy(parse: Any, *args: Any) -> Any:
        calls.append(parse.__name__)
        return await run(parse, *args)

    monkeypatch.setattr(pool, "run", spy)
    return calls


def rows_body(field: str, good: list[float], bad: list[Any], path: str, **extra: Any) -> Any:
    """`bad` as the last row, after as many `good` ones as take the body to `path`."""
    count = 1 if path == "loop" else OFF_LOOP // len(json.dumps(good)) + 1
    body = {field: [good] * (count - 1) + [bad], **extra}
    assert (len(json.dumps(body)) >= OFF_LOOP) == (path == "pool")
    return body


def post(client: TestClient, url: str, body: Any) -> Any:
    """`body` as json.dumps writes it (its size is the one checked), 100000.0 written 1e5."""
    text = json.dumps(body).replace("100000.0", "1e5")
    return client.post(url, content=text, headers={"content-type": "application/json"})


def refused(response: Any, field: str, kind: str) -> None:
    """A problem+json 422 whose first error is `field`'s, of pydantic's error type `kind`."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    first = body["errors"][0]
    assert (first["field"], first["type"]) == (field, kind), body
    assert body["detail"].startswith(f"{field}:"), body


@NOT_NUMBERS
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("op", ["encode", "reconstruct", "score"])
def test_rows_take_only_numbers(
    client: TestClient, pooled: list[str], op: str, path: str, value: Any
) -> None:
    body = rows_body("inputs", ROW, [*ROW[:3], value, *ROW[4:]], path)
    last = len(body["inputs"]) - 1
    refused(post(client, f"{V1}/{op}", body), f"inputs.{last}.3", "float_type")
    assert pooled == ([] if path == "loop" else ["parse_rows_body"])


@NOT_NUMBERS
@pytest.mark.parametrize("path", PATHS)
def test_codings_take_only_numbers(
    client: TestClient, pooled: list[str], path: str, value: Any
) -> None:
    body = rows_body("codings", CODING, [value, *CODING[1:]], path)
    last = len(body["codings"]) - 1
    refused(post(client, f"{V1}/decode", body), f"codings.{last}.0", "float_type")
    assert pooled == ([] if path == "loop" else ["parse_rows_body"])


@pytest.mark.parametrize(
    ("url", "extra", "field", "kind"),
    [
        (f"{V1}/encode", {"seed": "3"}, "seed", "int_type"),
        (f"{V1}/encode", {"seed": True}, "seed", "int_type"),
        (f"{VAE}/encode", {"sample": "true"}, "sample", "bool_type"),
        (f"{VAE}/encode", {"sample": 1}, "sample", "bool_type"),
        (f"{V1}/score", {"threshold": "2"}, "threshold", "float_type"),
        (f"{V1}/score", {"threshold": True}, "threshold", "float_type"),
        (f"{V1}/score", {"contamination": "0.1"}, "contamination", "float_type"),
    ],
)
@pytest.mark.parametrize("path", PATHS)
def test_row_operations_take_their_options_only_as_json_values(
    client: TestClient, url: str, extra: dict[str, Any], field: str, kind: str, path: str
) -> None:
    body = rows_body("inputs", ROW, ROW, path, **extra)
    refused(post(client, url, body), field, kind)


@pytest.mark.parametrize(
    ("op", "body", "field", "kind"),
    [
        ("generate", {"n": "16"}, "n", "int_type"),
        ("generate", {"n": True}, "n", "int_type"),
        ("generate", {"n": 2, "seed": "7"}, "seed", "int_type"),
        ("generate", {"n": 2, "seed": False}, "seed", "int_type"),
        ("interpolate", {"start": ["1e5", *ROW[1:]], "end": ROW}, "start.0", "float_type"),
        ("interpolate", {"start": ROW, "end": [*ROW[:-1], True]}, "end.63", "float_type"),
        ("interpolate", {"start": ROW, "end": ROW, "steps": "4"}, "steps", "int_type"),
        ("interpolate", {"start": ROW, "end": ROW, "steps": True}, "steps", "int_type"),
    ],
)
def test_generate_and_interpolate_take_only_json_numbers(
    client: TestClient, op: str, body: dict[str, Any], field: str, kind: str
) -> None:
    refused(post(client, f"{V1}/{op}", body), field, kind)


@pytest.mark.parametrize("path", PATHS)
def test_json_integers_and_exponents_are_still_numbers(
    client: TestClient, pooled: list[str], path: str
) -> None:
    row = [1, 1e5, *[0] * 62]  # an integer is a float; 1e5 as a JSON number is a number
    for op in ("encode", "reconstruct", "score"):
        response = post(client, f"{V1}/{op}", rows_body("inputs", row, row, path))
        assert response.status_code == 200, (op, response.text)
    body = rows_body("codings", [1, 1e5, 0, 0], [1, 1e5, 0, 0], path)
    assert post(client, f"{V1}/decode", body).status_code == 200
    assert (pooled == []) == (path == "loop")
    for op, options in (
        ("score", {"inputs": [row], "threshold": 2}),
        ("generate", {"n": 2, "seed": 7}),
        ("interpolate", {"start": row, "end": [0] * 64, "steps": 3}),
    ):
        response = post(client, f"{V1}/{op}", options)
        assert response.status_code == 200, (op, response.text)


def infer_body(values: list[Any], path: str, *, shape: list[Any] | None = None) -> Any:
    """One (n, 64) FP32 input of `values` last, after as many rows of numbers as take the
    body to `path`."""
    count = 1 if path == "loop" else OFF_LOOP // len(json.dumps(ROW)) + 1
    data = ROW * (count - 1) + values
    tensor = {"name": "input", "datatype": "FP32", "shape": shape or [count, 64], "data": data}
    body = {"inputs": [tensor]}
    assert (len(json.dumps(body)) >= OFF_LOOP) == (path == "pool")
    return body


@NOT_NUMBERS
@pytest.mark.parametrize("path", PATHS)
def test_oip_data_takes_only_numbers(
    client: TestClient, pooled: list[str], path: str, value: Any
) -> None:
    response = post(client, "/v2/models/digits-ae/infer", infer_body([value, *ROW[1:]], path))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error.startswith("input 'input': data is not numbers"), error
    assert pooled == ([] if path == "loop" else ["parse_infer_request"])


def test_oip_nested_data_and_decoder_inputs_take_only_numbers(client: TestClient) -> None:
    tensor = {"name": "input", "datatype": "FP32", "shape": [2, 64], "data": [ROW, [True] * 64]}
    response = post(client, "/v2/models/digits-ae/infer", {"inputs": [tensor]})
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("input 'input': data is not numbers")
    codings = {"name": "codings", "datatype": "FP32", "shape": [1, CODE_SIZE]}
    body = {"inputs": [{**codings, "data": ["1e5", 0.5, 0.5, 0.5]}]}
    response = post(client, "/v2/models/digits-ae.decoder/versions/1/infer", body)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("input 'codings': data is not numbers")


@pytest.mark.parametrize("dimension", ["1", True, 1.0])
@pytest.mark.parametrize("path", PATHS)
def test_oip_shape_takes_only_json_integers(client: TestClient, path: str, dimension: Any) -> None:
    body = infer_body(ROW, "loop", shape=[dimension, 64])
    if path == "pool":  # the same tensor, with padding enough to go to the pool
        body["parameters"] = {"padding": "x" * OFF_LOOP}
    response = post(client, "/v2/models/digits-ae/infer", body)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("invalid inference request: inputs.0.shape.0:")


@pytest.mark.parametrize("path", PATHS)
def test_oip_integers_and_exponents_are_still_numbers(client: TestClient, path: str) -> None:
    row = [1, 1e5, *[0] * 62]
    body = infer_body(row, path)
    body["inputs"][0]["data"] = row * body["inputs"][0]["shape"][0]
    response = post(client, "/v2/models/digits-ae/infer", body)
    assert response.status_code == 200, response.text
