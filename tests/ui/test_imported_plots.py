"""A version's plot list names only plots that render (an imported version whose metrics
carry `coding_mean` but no `coding_cov` listed samples.png, which answered 422), and a
plot drawn from a version's statistics is that version's own (the PNG cache keyed the
weights and data alone, so two imports of one file with other statistics shared one)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import update

from service.registry.tables import ModelVersion
from tests.registry.builders import model_blob


def test_every_listed_plot_of_an_imported_version_renders(client: TestClient) -> None:
    blob, config = model_blob(seed=1, embed_config=False)  # dense, 6 features, code size 2
    response = client.post(
        "/v1/models/imp/versions",
        files={"file": ("m.safetensors", blob)},
        data={"config": json.dumps(config), "metrics": json.dumps({"coding_mean": [0.0, 0.0]})},
    )
    assert response.status_code == 201, response.text
    plots = client.get("/v1/models/imp/versions/1/plots").json()["plots"]
    assert "samples" not in plots  # a mean without a covariance is nothing to draw from
    for name, path in plots.items():
        answer = client.get(path)
        assert answer.status_code == 200, (name, answer.status_code, answer.text[:200])


def test_two_versions_with_the_same_weights_but_other_statistics_get_their_own_samples(
    client: TestClient,
) -> None:
    blob, config = model_blob(seed=1, embed_config=False)
    for mean in ([0.0, 0.0], [50.0, -50.0]):
        metrics = {"coding_mean": mean, "coding_cov": [[1.0, 0.0], [0.0, 1.0]]}
        response = client.post(
            "/v1/models/same/versions",
            files={"file": ("m.safetensors", blob)},
            data={"config": json.dumps(config), "metrics": json.dumps(metrics)},
        )
        assert response.status_code == 201, response.text
    # The file holds its metrics now, so the two imports stored two files; versions stored
    # before it did, with the same weights, shared one (as here, once pointed at it)
    v1, v2 = (client.get(f"/v1/models/same/versions/{v}").json() for v in (1, 2))
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.session_factory() as session:
        session.execute(
            update(ModelVersion)
            .where(ModelVersion.artifact_sha256 == v2["artifact_sha256"])
            .values(artifact_sha256=v1["artifact_sha256"])
        )
        session.commit()
    v2 = client.get("/v1/models/same/versions/2").json()
    assert v1["artifact_sha256"] == v2["artifact_sha256"]
    first = client.get("/v1/models/same/versions/1/plots/samples.png")
    second = client.get("/v1/models/same/versions/2/plots/samples.png")
    assert first.status_code == second.status_code == 200
    assert first.content != second.content, "version 2's samples.png is version 1's"
