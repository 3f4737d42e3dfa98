"""Requests whose answers would dwarf them (a decode of many short codings, a generate of
many wide rows) are refused before they run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.inference.api import service as inference_service
from service.registry.service import weights_blob
from tests.registry.builders import make_model

WIDE = 65536  # features of an imported linear model: 4 x 65536 weights, about 1 MB


class ReachedTheModel(Exception):
    pass


@pytest.fixture
def wide(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    model, config = make_model(kind="linear", n_features=WIDE, code_size=2)
    blob = weights_blob(model.state_dict(), config)
    stats = '{"coding_mean": [0.0, 0.0], "coding_cov": [[1.0, 0.0], [0.0, 1.0]]}'
    r = client.post(
        "/v1/models/wide/versions",
        files={"file": ("m.safetensors", blob)},
        data={"metrics": stats},  # what a trained version records: generate can sample
    )
    assert r.status_code == 201, r.text

    async def run(ctx: Any, loaded: Any, operation: str, x: np.ndarray, gone: Any, **kw: Any):
        answer_bytes = x.shape[0] * loaded.n_features * 4
        raise ReachedTheModel(
            f"{operation} of {x.shape} queued: its answer alone is {answer_bytes / 2**30:.1f} "
            "GiB of float32 (several times that as JSON)"
        )

    monkeypatch.setattr(inference_service, "run", run)  # nothing is computed here
    return client


def test_decode_of_many_short_codings_is_refused_before_a_17_gib_answer(wide: TestClient) -> None:
    """65,536 codings of width 2 (a 1 MB body, under every limit) ask a 65,536-feature model
    for 65,536 x 65,536 outputs: 16 GiB of float32 before JSON. Only rows are bounded."""
    body = {"codings": [[0.0, 0.0]] * 65536}
    r = wide.post("/v1/models/wide/versions/1/decode", json=body)
    assert r.status_code in (413, 422), (r.status_code, r.text[:300])


def test_generate_of_max_n_is_refused_before_a_2_gib_answer(wide: TestClient) -> None:
    """A 25-byte body: 10,000 samples (AESVC_MAX_GENERATE) of 65,536 features, 2.4 GiB."""
    r = wide.post("/v1/models/wide/versions/1/generate", json={"n": 10000, "seed": 0})
    assert r.status_code in (413, 422), (r.status_code, r.text[:300])
