"""Issue 22, defect 4: a large JSON body is parsed off the event loop.

A body of rows (v1), or an Open Inference Protocol request's JSON (v2), of at least
AESVC_JSON_OFF_LOOP_BYTES is validated in a spawned process (service.json_bodies). Here the
threshold is 0 for one app, so every body goes there, and each answer (right or wrong input)
must be the one the in-loop parser gives. The figures
(/healthz under four clients sending 32 MB bodies) are benchmarks/attacks.py's.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from tests.registry.builders import import_model, raw_rows

URL = "/v1/models/m/versions/1"
BODIES: list[Any] = [
    {"inputs": raw_rows(5).tolist()},
    {"inputs": raw_rows(3).tolist(), "sample": False},
    {"inputs": [[1e39] * 6]},  # overflows float32: non-finite
    {"inputs": [[1.0] * 6, [1.0] * 5, [2.0] * 5]},  # ragged
    {"inputs": []},
    {"inputs": [[0.0] * 7]},  # wrong width
    {"inputs": "rows"},
    {"inputs": [["a"] * 6]},
    {"inputs": [[0.0] * 6], "extra": 1},
    {"inputs": [[0.0] * 6] * 51},  # past AESVC_MAX_REQUEST_ROWS
    {"inputs": [0.0] * 6},  # one flat row: said once, with the fix
]


@pytest.fixture
def clients(settings: Settings, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    limited = settings.model_copy(update={"max_request_rows": 50})
    with TestClient(create_app(limited, start_workers=False)) as in_loop:
        import_model(in_loop, "m", seed=3)
        off_loop_settings = limited.model_copy(update={"json_off_loop_bytes": 0})
        with TestClient(create_app(off_loop_settings, start_workers=False)) as off_loop:
            yield in_loop, off_loop


def test_large_bodies_are_parsed_in_another_process_with_the_same_answers(
    clients: tuple[TestClient, TestClient],
) -> None:
    in_loop, off_loop = clients
    before = {p.pid for p in multiprocessing.active_children()}
    for operation in ("encode", "reconstruct", "score"):
        for body in BODIES:
            want = in_loop.post(f"{URL}/{operation}", json=body)
            got = off_loop.post(f"{URL}/{operation}", json=body)
            assert got.status_code == want.status_code, (operation, body, got.text)
            if want.status_code == 200:
                for key, value in want.json().items():
                    if isinstance(value, list):
                        np.testing.assert_allclose(np.asarray(got.json()[key], float), value)
                    else:
                        assert got.json()[key] == value, key
            else:
                assert got.json() == want.json(), (operation, body)
    parsers = {p.pid for p in multiprocessing.active_children()} - before
    assert parsers, "no body was parsed outside this process"


def tensor(data: Any, shape: list[int], **fields: Any) -> dict[str, Any]:
    return {"name": "input", "datatype": "FP32", "shape": shape, "data": data, **fields}


ROWS = raw_rows(5)
OIP_BODIES: list[Any] = [
    {"inputs": [tensor(ROWS.reshape(-1).tolist(), [5, 6])]},
    {"inputs": [tensor(ROWS.tolist(), [5, 6])], "outputs": [{"name": "codings"}], "id": "x"},
    {"inputs": [tensor([1e39] * 6, [1, 6])]},  # overflows float32: non-finite
    {"inputs": [tensor([["a"] * 6], [1, 6])]},  # not numbers
    {"inputs": [tensor([[1.0] * 6, [1.0] * 5], [2, 6])]},  # ragged
    {"inputs": [tensor([0.0] * 7, [1, 6])]},  # does not fill the shape
    {"inputs": [tensor(None, [1, 6])]},  # no values given
    {"inputs": []},
    {"inputs": [{"name": "input", "shape": [1, 6]}]},  # no datatype
    "not an object",
]


def test_large_oip_bodies_are_parsed_in_another_process_with_the_same_answers(
    clients: tuple[TestClient, TestClient],
) -> None:
    """Fails where the v2 infer route parses its JSON on the loop: then no process starts."""
    in_loop, off_loop = clients
    before = {p.pid for p in multiprocessing.active_children()}
    for path in ("/v2/models/m/infer", "/v2/models/m.decoder/versions/1/infer"):
        for body in OIP_BODIES:
            want = in_loop.post(path, json=body)
            got = off_loop.post(path, json=body)
            assert got.status_code == want.status_code, (path, body, got.text)
            if want.status_code != 200:
                assert got.json() == want.json(), (path, body)
                continue
            assert len(got.json()["outputs"]) == len(want.json()["outputs"])
            for mine, theirs in zip(got.json()["outputs"], want.json()["outputs"], strict=True):
                assert mine.pop("name") == theirs.pop("name")
                np.testing.assert_allclose(mine.pop("data"), theirs.pop("data"), rtol=1e-5)
                assert mine == theirs
    parsers = {p.pid for p in multiprocessing.active_children()} - before
    assert parsers, "no OIP body was parsed outside this process"


def test_an_oip_body_over_the_limit_is_refused_as_it_streams(settings: Settings) -> None:
    """No Content-Length: the count of the streamed bytes refuses it, before any parse."""
    limited = settings.model_copy(update={"max_body_bytes": 1000, "json_off_loop_bytes": 0})
    before = {p.pid for p in multiprocessing.active_children()}
    with TestClient(create_app(limited, start_workers=False)) as client:
        chunks = iter([b'{"inputs": [', b" " * 2000, b"]}"])
        headers = {"content-type": "application/json"}
        response = client.post("/v2/models/m/infer", content=chunks, headers=headers)
        assert response.status_code == 413, response.text
        assert response.json() == {"error": "the body is over the limit of 1000 bytes"}
        assert {p.pid for p in multiprocessing.active_children()} <= before  # nothing parsed
