"""A trained version downloaded as safetensors and imported elsewhere with no form field
but the file scores, flags and generates as the original does: the metrics the operations
read travel in the file's metadata."""

from __future__ import annotations

import json

import numpy as np
from fastapi.testclient import TestClient

from service.config import Settings
from service.registry.service import SERVING_METRICS
from tests.factories import job_body, run_worker


def test_an_exported_version_imported_again_scores_and_generates_as_before(
    client: TestClient, settings: Settings
) -> None:
    body = job_body(model_name="orig", dataset="pca3d", code_size=2, epochs=3)
    assert client.post("/v1/jobs", json=body).status_code == 202
    run_worker(settings)
    original = client.get("/v1/models/orig/versions/1").json()
    assert set(SERVING_METRICS) <= set(original["metrics"])

    exported = client.get("/v1/models/orig/versions/1/artifact")
    assert exported.status_code == 200
    imported = client.post(
        "/v1/models/copy/versions", files={"file": ("orig.safetensors", exported.content)}
    )
    assert imported.status_code == 201, imported.text
    carried = imported.json()["metrics"]
    assert carried == {k: original["metrics"][k] for k in SERVING_METRICS}

    rows = np.random.default_rng(0).normal(size=(16, 3)).tolist()
    rows[0] = [40.0, -40.0, 40.0]  # far from the data: above the threshold
    scored = {
        name: client.post(f"/v1/models/{name}/versions/1/score", json={"inputs": rows}).json()
        for name in ("orig", "copy")
    }
    assert scored["copy"]["threshold"] == scored["orig"]["threshold"]
    assert scored["copy"]["is_anomaly"] == scored["orig"]["is_anomaly"]
    assert scored["copy"]["is_anomaly"][0] is True
    np.testing.assert_allclose(scored["copy"]["scores"], scored["orig"]["scores"], rtol=1e-6)
    by_share = {
        name: client.post(
            f"/v1/models/{name}/versions/1/score", json={"inputs": rows, "contamination": 0.2}
        ).json()["threshold"]
        for name in ("orig", "copy")
    }
    assert by_share["copy"] == by_share["orig"]

    generated = {
        name: client.post(f"/v1/models/{name}/versions/1/generate", json={"n": 4, "seed": 3})
        for name in ("orig", "copy")
    }
    assert generated["copy"].status_code == 200, generated["copy"].text
    assert generated["copy"].json()["method"] == "fitted_gaussian"
    assert generated["copy"].json()["samples"] == generated["orig"].json()["samples"]

    # a form field still wins over what the file carries
    again = client.post(
        "/v1/models/other/versions",
        files={"file": ("orig.safetensors", exported.content)},
        data={"metrics": json.dumps({"threshold": 1.5})},
    )
    assert again.status_code == 201 and again.json()["metrics"] == {"threshold": 1.5}
