"""`auto` through the API: the profile at upload, the version's resolved spec, and the specs
that contradict the data refused before anything is queued."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from service.config import Settings
from tests.factories import npy_bytes, run_worker


def _upload(client: TestClient, name: str, X: np.ndarray, image_shape: str | None = None) -> None:
    form = {"name": name, **({"image_shape": image_shape} if image_shape else {})}
    files = {"file": (f"{name}.npy", npy_bytes(X.astype(np.float32)), "application/octet-stream")}
    response = client.post("/v1/datasets", data=form, files=files)
    assert response.status_code == 201, response.text


def test_an_upload_records_its_profile(client: TestClient) -> None:
    pixels = np.random.default_rng(0).integers(0, 256, size=(30, 16))
    _upload(client, "pixels", pixels, "4,4,1")
    profile = client.get("/v1/datasets/pixels").json()["profile"]
    assert profile["image"] and profile["integer_valued"]
    assert (profile["n_rows"], profile["n_features"]) == (30, 16)
    assert 0 <= profile["min"] <= profile["max"] <= 255


def test_the_version_records_what_auto_chose_and_why(
    client: TestClient, settings: Settings
) -> None:
    body = {
        "model_name": "bc",
        "dataset": "breast_cancer",
        "architecture": {"code_size": 4},
        "training": {"epochs": 2},
    }
    job = client.post("/v1/jobs", json=body).json()
    assert job["spec"]["preprocessing"] == "auto"  # the job keeps what was asked
    assert run_worker(settings) == 1
    version = client.get("/v1/models/bc/versions/latest").json()
    spec = version["spec"]
    assert spec["preprocessing"] == "standardize"  # 30 features on different scales
    assert spec["training"]["loss"] == "mse"
    assert isinstance(spec["architecture"]["hidden_sizes"], list)
    values = [*spec["architecture"].items(), *spec["regularization"].items()]
    values += [(k, v) for k, v in spec["training"].items() if k != "device"]  # per worker
    assert [k for k, v in values if v == "auto"] == []
    assert set(version["metrics"]["auto_decisions"]) >= {"preprocessing", "training.loss"}
    # metrics in data units, with the preprocessed-space figures under their own names
    metrics = version["metrics"]
    assert metrics["val_mse"] > 2 * metrics["val_mse_preprocessed"]  # area is in the 1000s
    assert metrics["pca_val_mse"] > 2 * metrics["pca_val_mse_preprocessed"]


def test_specs_that_contradict_the_data_are_422_naming_the_field(client: TestClient) -> None:
    bce = {
        "model_name": "x",
        "dataset": "breast_cancer",  # auto preprocessing: standardize, outside [0, 1]
        "architecture": {"code_size": 4},
        "training": {"loss": "bce"},
    }
    response = client.post("/v1/jobs", json=bce)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "training.loss"
    conv = {
        "model_name": "x",
        "dataset": "breast_cancer",
        "architecture": {"kind": "conv", "code_size": 4},
    }
    response = client.post("/v1/jobs", json=conv)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "architecture.kind"
    bad_auto = {
        "model_name": "x",
        "dataset": "digits",
        "architecture": {"code_size": 4, "hidden_sizes": "big"},
    }
    response = client.post("/v1/jobs", json=bad_auto)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"architecture.hidden_sizes"}, response.json()
    assert client.get("/v1/jobs").json()["count"] == 0  # nothing was queued


def test_bce_with_auto_preprocessing_on_bounded_data_is_accepted(client: TestClient) -> None:
    body = {
        "model_name": "d",
        "dataset": "digits",  # whole numbers in [0, 16]: global_minmax into [0, 1]
        "architecture": {"code_size": 4},
        "training": {"loss": "bce", "epochs": 1},
    }
    assert client.post("/v1/jobs", json=body).status_code == 202
