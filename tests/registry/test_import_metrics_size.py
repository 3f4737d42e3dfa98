"""An imported version's metrics are in every read of it (its GET, every page of its model's
versions): besides the statistics serving reads, whose shapes follow from the code size,
they hold at most MAX_OTHER_METRICS_BYTES of JSON. A 20 MB list under a key of its own in
the file's metadata was stored whole: four such imports made one page of versions 80 MB of
JSON and grew the server by 530 MB (0.8 s of /healthz)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from service.registry.imports import MAX_OTHER_METRICS_BYTES
from tests.registry.builders import model_blob

URL = "/v1/models/imported/versions"


def _embedded(metrics_json: str) -> bytes:
    blob, config = model_blob(seed=1, embed_config=False)
    metadata = {"config": json.dumps(config), "metrics": metrics_json}
    return save_safetensors(load_safetensors(blob), metadata)


def test_metrics_past_the_limit_are_refused_in_the_file_and_the_form_field(
    client: TestClient,
) -> None:
    junk = json.dumps({"threshold": 1.0, "junk": [0] * (MAX_OTHER_METRICS_BYTES // 2)})
    r = client.post(URL, files={"file": ("m.safetensors", _embedded(junk))})
    assert r.status_code == 422, r.text[:500]
    error = r.json()["errors"][0]
    assert error["field"] == "file.metadata.metrics", r.text[:500]
    assert str(MAX_OTHER_METRICS_BYTES) in error["message"], r.text[:500]
    blob, _ = model_blob(seed=1)
    r = client.post(URL, files={"file": ("m.safetensors", blob)}, data={"metrics": junk})
    assert r.status_code == 422, r.text[:500]
    assert r.json()["errors"][0]["field"] == "metrics", r.text[:500]
    assert client.get("/v1/models/imported").status_code == 404  # nothing stored


def test_metrics_within_the_limit_and_the_serving_statistics_are_kept(
    client: TestClient,
) -> None:
    """The statistics serving reads do not count (their shapes are checked), the rest does."""
    metrics = {
        "coding_mean": [0.0, 0.0],
        "coding_cov": [[1.0, 0.0], [0.0, 1.0]],
        "val_mse": 0.5,
        "notes": "x" * (MAX_OTHER_METRICS_BYTES - 100),
    }
    blob, _ = model_blob(seed=1)
    r = client.post(
        URL, files={"file": ("m.safetensors", blob)}, data={"metrics": json.dumps(metrics)}
    )
    assert r.status_code == 201, r.text[:500]
    assert r.json()["metrics"] == metrics
