"""Models and versions: lineage, listing, PATCH, archive, delete, and their refusals."""

from __future__ import annotations

import torch
from fastapi.testclient import TestClient

from service.config import Settings
from service.registry.service import service_version
from tests.factories import job_body, run_worker
from tests.registry.builders import blob_path, import_model, raw_rows, stored_blobs


def train(client: TestClient, settings: Settings, name: str) -> dict:
    job = client.post("/v1/jobs", json=job_body(model_name=name, dataset="pca3d", code_size=2))
    assert job.status_code == 202, job.text
    assert run_worker(settings) == 1
    done = client.get(f"/v1/jobs/{job.json()['id']}").json()
    assert done["status"] == "succeeded", done
    return done  # type: ignore[no-any-return]


def test_version_lineage_and_numbers_never_reused(client: TestClient, settings: Settings) -> None:
    job = train(client, settings, "ae")
    v1 = client.get("/v1/models/ae/versions/1").json()
    dataset = client.get("/v1/datasets/pca3d").json()
    assert v1["source_job_id"] == job["id"]
    assert v1["dataset_id"] == dataset["id"] and v1["dataset_sha256"] == dataset["sha256"]
    # the version records what was used: the job's spec with every `auto` decided
    for section, fields in job["spec"].items():
        asked = fields if isinstance(fields, dict) else {"": fields}
        used = v1["spec"][section] if isinstance(fields, dict) else {"": v1["spec"][section]}
        for key, value in asked.items():
            assert used[key] == value or (value == "auto" and used[key] != "auto"), key
    assert v1["metrics"]["pca_val_mse"] > 0
    assert v1["service_version"] == service_version()
    assert v1["service_version"].startswith("0.1.0")
    assert v1["torch_version"] == torch.__version__
    assert v1["created_at"] and v1["artifact_sha256"] and v1["size_bytes"] > 0

    assert train(client, settings, "ae")["model_version"] == 2
    assert client.delete("/v1/models/ae/versions/2").status_code == 204
    assert train(client, settings, "ae")["model_version"] == 3  # 2 is never reused
    versions = client.get("/v1/models/ae/versions").json()
    assert [(v["version"], v["status"]) for v in versions["data"]] == [
        (1, "ready"),
        (2, "archived"),
        (3, "ready"),
    ]
    ready = client.get("/v1/models/ae/versions", params={"status": "ready", "limit": 1}).json()
    assert [v["version"] for v in ready["data"]] == [1] and ready["count"] == 2


def test_list_models_pages_and_filters(client: TestClient) -> None:
    for name in ("alpha-ae", "beta-ae", "Gamma", "x_1"):
        import_model(client, name)
    everything = client.get("/v1/models").json()
    assert [m["name"] for m in everything["data"]] == ["Gamma", "alpha-ae", "beta-ae", "x_1"]
    assert everything["count"] == 4
    page = client.get("/v1/models", params={"offset": 1, "limit": 2}).json()
    assert [m["name"] for m in page["data"]] == ["alpha-ae", "beta-ae"] and page["count"] == 4
    found = client.get("/v1/models", params={"name_contains": "-AE"}).json()
    assert [m["name"] for m in found["data"]] == ["alpha-ae", "beta-ae"] and found["count"] == 2
    assert client.get("/v1/models", params={"name_contains": "_"}).json()["count"] == 1
    assert client.get("/v1/models", params={"name_contains": "%"}).json()["count"] == 0
    assert client.get("/v1/models", params={"limit": 0}).status_code == 422
    model = client.get("/v1/models/beta-ae").json()
    assert model["latest_version"] == 1 and model["aliases"] == {"latest": 1}
    assert client.get("/v1/models/nope").status_code == 404


def test_patch_sets_description_and_merges_tags(client: TestClient) -> None:
    import_model(client, "ae")
    before = client.get("/v1/models/ae").json()
    first = client.patch("/v1/models/ae", json={"description": "d1", "tags": {"a": "1", "b": "2"}})
    assert first.status_code == 200, first.text
    assert first.json()["description"] == "d1" and first.json()["tags"] == {"a": "1", "b": "2"}
    assert first.json()["updated_at"] > before["updated_at"]
    second = client.patch("/v1/models/ae", json={"tags": {"a": None, "c": "3"}}).json()
    assert second["description"] == "d1" and second["tags"] == {"b": "2", "c": "3"}
    assert client.get("/v1/models/ae").json()["tags"] == {"b": "2", "c": "3"}
    assert client.patch("/v1/models/nope", json={"description": "x"}).status_code == 404
    bad = client.patch("/v1/models/ae", json={"tags": {"a": 1}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("tags")
    assert client.patch("/v1/models/ae", json={"name": "other"}).status_code == 422
    too_many = {f"t{i}": "v" for i in range(63)}  # 65 with the two kept
    assert client.patch("/v1/models/ae", json={"tags": too_many}).status_code == 422
    assert client.get("/v1/models/ae").json()["tags"] == {"b": "2", "c": "3"}


def test_archive_refusals_and_410(client: TestClient, settings: Settings) -> None:
    v1 = import_model(client, "ae", seed=1)
    import_model(client, "ae", seed=2)
    rows = raw_rows(2).tolist()
    assert client.post("/v1/models/ae/versions/1/encode", json={"inputs": rows}).status_code == 200
    client.put("/v1/models/ae/aliases/prod", json={"version": 1})

    pinned = client.delete("/v1/models/ae/versions/1")
    assert pinned.status_code == 409, pinned.text
    assert pinned.json()["aliases"] == ["prod"] and "prod" in pinned.json()["detail"]
    assert blob_path(settings, v1["artifact_sha256"]).exists()

    client.put("/v1/models/ae/aliases/prod", json={"version": 2})
    assert client.delete("/v1/models/ae/versions/1").status_code == 204
    assert not blob_path(settings, v1["artifact_sha256"]).exists()
    assert client.get("/v1/models/ae/versions/1").json()["status"] == "archived"
    gone = client.post("/v1/models/ae/versions/1/encode", json={"inputs": rows})
    assert gone.status_code == 410 and gone.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/models/ae/versions/1/artifact").status_code == 410
    assert client.delete("/v1/models/ae/versions/1").status_code == 410
    assert client.delete("/v1/models/ae/versions/9").status_code == 404
    assert client.delete("/v1/models/nope/versions/1").status_code == 404
    # the same {ref} as GET: an alias names the version it pins, so that is a 409
    assert client.delete("/v1/models/ae/versions/prod").status_code == 409


def test_a_shared_blob_stays_until_its_last_version_goes(
    client: TestClient, settings: Settings
) -> None:
    a = import_model(client, "ae", seed=1)
    b = import_model(client, "ae", seed=1)  # the same weights: the same blob
    assert a["artifact_sha256"] == b["artifact_sha256"]
    path = blob_path(settings, a["artifact_sha256"])
    client.get("/v1/models/ae/versions/1/artifact", params={"format": "torchscript"})
    assert len(stored_blobs(settings) - {a["artifact_sha256"]}) > 0
    assert client.delete("/v1/models/ae/versions/1").status_code == 204
    assert path.exists()
    assert client.get("/v1/models/ae/versions/2/artifact").content == path.read_bytes()
    before = stored_blobs(settings)
    assert client.delete("/v1/models/ae/versions/2").status_code == 204
    assert not path.exists()
    gone = before - stored_blobs(settings)
    assert len(gone) == 2  # the weights and their cached TorchScript export


def test_delete_model_removes_everything(client: TestClient, settings: Settings) -> None:
    import_model(client, "keep", seed=5)
    kept = stored_blobs(settings)
    import_model(client, "ae", seed=1)
    import_model(client, "ae", seed=2)
    client.put("/v1/models/ae/aliases/prod", json={"version": 2})

    job = client.post("/v1/jobs", json=job_body(model_name="ae", dataset="pca3d", code_size=2))
    refused = client.delete("/v1/models/ae")
    assert refused.status_code == 409 and refused.json()["active_jobs"] == 1
    assert client.get("/v1/models/ae/versions/2").status_code == 200
    assert client.post(f"/v1/jobs/{job.json()['id']}/cancel").status_code == 200

    assert client.delete("/v1/models/ae").status_code == 204
    assert client.get("/v1/models/ae").status_code == 404
    assert client.get("/v1/models/ae/versions/2").status_code == 404
    assert client.get("/v1/models/ae/aliases/prod/history").status_code == 404
    assert client.delete("/v1/models/ae").status_code == 404
    assert stored_blobs(settings) == kept  # the datasets' and the other model's blobs stay
    assert [m["name"] for m in client.get("/v1/models").json()["data"]] == ["keep"]
    assert import_model(client, "ae", seed=3)["version"] == 1  # a new model of that name


def test_an_offset_past_64_bits_is_422_not_500(client: TestClient, settings: Settings) -> None:
    # Found by tests/test_fuzz.py: the driver overflowed on OFFSET (a 500).
    assert client.post("/v1/jobs", json=job_body(model_name="big")).status_code == 202
    assert run_worker(settings) == 1
    assert client.put("/v1/models/big/aliases/prod", json={"version": 1}).status_code == 200
    for path in ("/v1/models", "/v1/models/big/versions", "/v1/models/big/aliases/prod/history"):
        response = client.get(path, params={"offset": 2**64})
        assert response.status_code == 422, (path, response.text)
        assert response.json()["errors"][0]["field"] == "offset"
