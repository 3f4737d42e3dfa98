from __future__ import annotations

from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from tests.factories import job_body, run_worker


def test_job_runs_and_registers_version(client: TestClient, settings: Settings) -> None:
    response = client.post("/v1/jobs", json=job_body(model_name="digits-ae", code_size=8))
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued" and job["attempt"] == 0
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"

    assert run_worker(settings) == 1

    done = client.get(f"/v1/jobs/{job['id']}").json()
    assert done["status"] == "succeeded", done
    assert done["model_version"] == 1 and done["attempt"] == 1
    assert done["progress"]["epoch"] == done["progress"]["epochs"] == 2
    assert done["worker"] is None
    version = client.get("/v1/models/digits-ae/versions/1").json()
    assert version["source_job_id"] == job["id"]
    assert version["code_size"] == 8 and version["n_features"] == 64
    assert version["metrics"]["pca_val_mse"] > 0
    assert client.get("/v1/models/digits-ae/versions/latest").json()["version"] == 1
    history = client.get(f"/v1/jobs/{job['id']}/history").json()["epochs"]
    assert [h["epoch"] for h in history] == [1, 2]
    first = client.get(f"/v1/jobs/{job['id']}/history", params={"limit": 1}).json()
    assert [h["epoch"] for h in first["epochs"]] == [1] and first["count"] == 2
    rest = client.get(
        f"/v1/jobs/{job['id']}/history", params={"limit": 1, "page_token": first["next_page_token"]}
    ).json()
    assert [h["epoch"] for h in rest["epochs"]] == [2] and rest["next_page_token"] is None


def test_a_job_whose_model_loses_to_pca_trains_again_on_a_linear_path(
    client: TestClient, settings: Settings
) -> None:
    """Two epochs on digits lose to PCA in the data's units: the job's progress, history and
    version go on into a second training (stage linear_path), which the version holds."""
    body = job_body(model_name="twice", code_size=8, architecture={"linear_path": "auto"})
    job = client.post("/v1/jobs", json=body).json()
    assert run_worker(settings) == 1
    done = client.get(f"/v1/jobs/{job['id']}").json()
    assert done["status"] == "succeeded", done
    progress = done["progress"]
    assert (progress["epoch"], progress["epochs"], progress["stage"]) == (4, 4, "linear_path")
    history = client.get(f"/v1/jobs/{job['id']}/history").json()["epochs"]
    assert [(h["epoch"], h["stage"]) for h in history] == [
        (1, "end_to_end"),
        (2, "end_to_end"),
        (3, "linear_path"),
        (4, "linear_path"),
    ]
    version = client.get("/v1/models/twice/versions/1").json()
    assert version["spec"]["architecture"]["linear_path"] is True
    assert version["spec"]["architecture"]["output_activation"] == "clip"  # pixels in [0, 16]
    metrics = version["metrics"]
    assert metrics["val_mse"] <= metrics["pca_val_mse"] * (1 + 1e-4)
    assert metrics["auto_decisions"]["architecture.linear_path"].startswith("on: trained")
    assert version["worse_than"] == []  # no warning against PCA


def test_a_linear_path_past_the_parameter_cap_is_refused_at_submission(
    settings: Settings,
) -> None:
    """The second training's model is costed too: accepted, it registered a version over
    AESVC_MAX_MODEL_PARAMETERS that the service then refused to import."""
    capped = settings.model_copy(update={"max_model_parameters": 1297})  # the first model's
    architecture = {"linear_path": "auto", "hidden_sizes": []}
    with TestClient(create_app(capped, start_workers=False)) as client:
        refused = client.post("/v1/jobs", json=job_body(code_size=8, architecture=architecture))
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["errors"][0]["field"] == "spec.architecture.linear_path"
        assert "2393 parameters" in problem["detail"] and "1297" in problem["detail"]
        without = {**architecture, "linear_path": False}
        accepted = client.post("/v1/jobs", json=job_body(code_size=8, architecture=without))
        assert accepted.status_code == 202, accepted.text


def test_unknown_dataset_is_404(client: TestClient) -> None:
    response = client.post("/v1/jobs", json=job_body(dataset="nope"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "nope" in response.json()["detail"]


def test_code_size_not_smaller_than_features_is_422(client: TestClient) -> None:
    response = client.post("/v1/jobs", json=job_body(dataset="pca3d", code_size=3))
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "spec.architecture.code_size"
    assert client.get("/v1/jobs").json()["count"] == 0


def test_epochs_zero_is_422_naming_the_field(client: TestClient) -> None:
    response = client.post("/v1/jobs", json=job_body(training={"epochs": 0}))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "spec.training.epochs"
    assert client.get("/v1/jobs").json()["count"] == 0


def test_unknown_job_is_404(client: TestClient) -> None:
    assert client.get("/v1/jobs/0123").status_code == 404


def test_an_offset_past_64_bits_is_422_not_500(client: TestClient) -> None:
    # Found by tests/test_fuzz.py: the driver overflowed on OFFSET (a 500).
    response = client.get("/v1/jobs", params={"offset": 2**64})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "offset"


def test_a_spec_read_back_is_sent_again_and_the_0x_body_still_works(client: TestClient) -> None:
    """1.0 bodies are shaped like a job's `spec`; 0.x bodies are read, with Deprecation."""
    first = client.post("/v1/jobs", json=job_body(model_name="round", code_size=3))
    assert first.status_code == 202 and "Deprecation" not in first.headers
    job = first.json()
    assert job["model"] == job["model_name"] == "round"
    again = client.post(
        "/v1/jobs", json={"model": "round", "dataset": "digits", "spec": job["spec"]}
    )
    assert again.status_code == 202, again.text
    assert again.json()["spec"] == job["spec"]

    legacy = {
        "model_name": "old",
        "dataset": "digits",
        "architecture": {"code_size": 3, "hidden_sizes": [16]},
        "training": {"epochs": 2},
    }
    old = client.post("/v1/jobs", json=legacy)
    assert old.status_code == 202, old.text
    assert old.headers["Deprecation"] and old.headers["Sunset"]
    assert old.json()["model"] == "old"
    assert old.json()["spec"]["architecture"]["code_size"] == 3
    assert old.json()["spec"]["training"]["epochs"] == 2

    by_model = client.get("/v1/jobs", params={"model": "round"})
    assert by_model.json()["count"] == 2 and "Deprecation" not in by_model.headers
    by_old_name = client.get("/v1/jobs", params={"model_name": "old"})
    assert by_old_name.json()["count"] == 1 and by_old_name.headers["Deprecation"]
