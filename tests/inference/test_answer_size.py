"""Requests whose answers would dwarf them (a decode of many short codings, a generate or an
interpolation of many wide rows) are refused before they run: an answer past
AESVC_MAX_BODY_BYTES, counted in the bytes it is sent in (16 a value in JSON, 4 in .npy), is
a 422 naming the field. The limit is set low here, on a small model; the helper's case was
a 1 MB decode asking a 65,536-feature model for 16 GiB."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.inference.api import service as inference_service
from service.main import create_app
from service.registry.service import weights_blob
from tests.registry.builders import make_model

FEATURES, LIMIT = 64, 4096  # the limit: 4 rows of JSON (4 x 64 x 16 bytes), 16 of .npy
NPY = {"Accept": "application/x-npy"}
URL = "/v1/models/wide/versions/1"


class ReachedTheModel(Exception):
    pass


@contextmanager
def wide_model(settings: Settings) -> Iterator[TestClient]:
    """An app at the low limit, with a linear model of FEATURES features imported as a
    trained version records it (its coding statistics: generate can sample)."""
    app = create_app(settings.model_copy(update={"max_body_bytes": LIMIT}), start_workers=False)
    with TestClient(app) as client:
        model, config = make_model(kind="linear", n_features=FEATURES, code_size=2)
        blob = weights_blob(model.state_dict(), config, {})
        stats = '{"coding_mean": [0.0, 0.0], "coding_cov": [[1.0, 0.0], [0.0, 1.0]]}'
        r = client.post(
            "/v1/models/wide/versions",
            files={"file": ("m.safetensors", blob)},
            data={"metrics": stats},
        )
        assert r.status_code == 201, r.text
        yield client


@pytest.fixture
def wide(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with wide_model(settings) as client:

        async def run(*args: Any, **kwargs: Any) -> Any:
            raise ReachedTheModel  # nothing is computed here: only where the request got

        monkeypatch.setattr(inference_service, "run", run)
        yield client


@pytest.mark.parametrize(
    ("operation", "body", "field"),
    [
        ("decode", {"codings": [[0.0, 0.0]] * 17}, "codings"),
        ("generate", {"n": 17, "seed": 0}, "n"),
        ("interpolate", {"start": [0.0] * FEATURES, "end": [1.0] * FEATURES, "steps": 17}, "steps"),
    ],
)
def test_an_answer_past_the_body_limit_is_refused_before_the_model(
    wide: TestClient, operation: str, body: dict[str, Any], field: str
) -> None:
    r = wide.post(f"{URL}/{operation}", json=body)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert r.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("operation", "body", "headers"),
    [
        ("decode", {"codings": [[0.0, 0.0]] * 16}, NPY),
        ("generate", {"n": 16, "seed": 0}, NPY),
        ("decode", {"codings": [[0.0, 0.0]] * 4}, {}),
        ("generate", {"n": 4, "seed": 0}, {}),
        # answers about the rows it was sent (here 8 KB of JSON for 2 KB): not held to it
        ("reconstruct", {"inputs": [[0.0] * FEATURES] * 8}, {}),
    ],
)
def test_an_answer_at_the_limit_reaches_the_model(
    wide: TestClient, operation: str, body: dict[str, Any], headers: dict[str, str]
) -> None:
    with pytest.raises(ReachedTheModel):
        wide.post(f"{URL}/{operation}", json=body, headers=headers)


@pytest.mark.parametrize(
    ("operation", "body", "field"),
    [
        ("decode", {"codings": [[0.0, 0.0]] * 5}, "codings"),
        ("generate", {"n": 5, "seed": 0}, "n"),
        ("interpolate", {"start": [0.0] * FEATURES, "end": [1.0] * FEATURES, "steps": 5}, "steps"),
    ],
)
def test_a_json_answer_is_counted_in_json_bytes(
    wide: TestClient, operation: str, body: dict[str, Any], field: str
) -> None:
    """A JSON answer takes up to 16 bytes a value: 5 rows pass the limit that 16 rows of
    .npy fill, and the request says to ask for .npy."""
    r = wide.post(f"{URL}/{operation}", json=body)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    error = r.json()["errors"][0]
    assert error["field"] == field and "application/x-npy" in error["message"], error


@pytest.fixture
def wide_unpatched(settings: Settings) -> Iterator[TestClient]:
    """The `wide` model at the same limit, its requests run for real."""
    with wide_model(settings) as client:
        yield client


ENVELOPE_BYTES = 256  # {"model": ..., "version": ..., "method": ...} around the rows


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 16])
def test_a_json_answer_stays_within_the_body_limit(wide_unpatched: TestClient, n: int) -> None:
    """Run for real: whatever is answered fits the limit (at 4 bytes a value, 16 rows were
    taken and answered 10,425 bytes of JSON against a limit of 4,096)."""
    r = wide_unpatched.post(f"{URL}/generate", json={"n": n, "seed": 0})
    assert r.status_code in (200, 422), r.text[:300]
    if r.status_code == 200:
        assert len(r.content) <= LIMIT + ENVELOPE_BYTES, len(r.content)
    else:
        assert n > 4
