"""`latest` moves to the newest version even when it is worse; the version JSON says so."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.registry.builders import model_blob


def import_with(client: TestClient, name: str, seed: int, **metrics: float) -> dict[str, Any]:
    blob, _ = model_blob(seed)
    response = client.post(
        f"/v1/models/{name}/versions",
        files={"file": ("model.safetensors", blob, "application/octet-stream")},
        data={"metrics": json.dumps(metrics)},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_latest_worse_than_an_alias_and_pca_says_so(client: TestClient) -> None:
    first = import_with(client, "q", 0, val_mse=0.5, pca_val_mse=0.8)
    assert first["worse_than"] == []
    assert client.put("/v1/models/q/aliases/prod", json={"version": 1}).status_code == 200
    import_with(client, "q", 1, val_mse=1.0, pca_val_mse=0.8)

    latest = client.get("/v1/models/q/versions/latest").json()
    assert latest["version"] == 2 and "latest" in latest["aliases"]  # latest stays "newest"
    worse = {w["against"]: w for w in latest["worse_than"]}
    assert set(worse) == {"pca", "alias:prod"}
    assert worse["alias:prod"]["version"] == 1 and worse["alias:prod"]["baseline_value"] == 0.5
    assert worse["pca"]["value"] == 1.0 and "PCA" in worse["pca"]["message"]
    assert client.get("/v1/models/q/versions/prod").json()["worse_than"] == []

    # within the noise margin is not "worse"; a better version names nothing
    import_with(client, "q", 2, val_mse=0.504, pca_val_mse=0.8)
    assert client.get("/v1/models/q/versions/3").json()["worse_than"] == []
    listed = client.get("/v1/models/q/versions").json()["data"]
    assert {v["version"]: len(v["worse_than"]) for v in listed} == {1: 0, 2: 2, 3: 0}
