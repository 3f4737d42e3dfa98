from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from tests.factories import csv_bytes, job_body, npy_bytes, npz_bytes, random_matrix

BUILTINS = {"digits", "pca3d", "breast_cancer"}


def assert_matches(dataset: dict[str, Any], X: np.ndarray, settings: Settings) -> None:
    """Shape, stats and the stored blob all agree with the float32 matrix `X`."""
    X32 = X.astype(np.float32)
    assert (dataset["n_rows"], dataset["n_features"]) == X32.shape
    X64 = X32.astype(np.float64)
    for key, expected in {
        "mean": X64.mean(axis=0),
        "std": X64.std(axis=0),
        "min": X64.min(axis=0),
        "max": X64.max(axis=0),
    }.items():
        np.testing.assert_allclose(dataset["stats"][key], expected, atol=1e-5, err_msg=key)
    buffer = io.BytesIO()
    np.save(buffer, X32)
    sha = hashlib.sha256(buffer.getvalue()).hexdigest()
    assert dataset["sha256"] == sha
    blob = settings.resolved_artifact_root / "sha256" / sha[:2] / sha
    np.testing.assert_array_equal(np.load(blob), X32)
    assert dataset["size_bytes"] == blob.stat().st_size


def test_csv_with_string_labels(upload: Any, client: TestClient, settings: Settings) -> None:
    X = random_matrix(30, 5)
    labels = ["cat", "dog", "emu"] * 10
    response = upload(
        "pets.csv",
        csv_bytes(X, header=list("abcde"), labels=labels),
        name="pets",
        content_type="text/csv",
        label_column="label",
    )
    assert response.status_code == 201, response.text
    dataset = response.json()
    assert response.headers["location"] == f"/v1/datasets/{dataset['id']}"
    assert dataset["name"] == "pets" and dataset["source_format"] == "csv"
    assert dataset["feature_names"] == list("abcde")
    assert dataset["has_labels"] is True and dataset["label_names"] == ["cat", "dog", "emu"]
    assert dataset["image_shape"] is None and dataset["builtin"] is False
    assert_matches(dataset, X, settings)


def test_csv_without_labels_and_with_image_shape(upload: Any, settings: Settings) -> None:
    X = random_matrix(12, 4)
    response = upload("img.csv", csv_bytes(X), name="img", image_shape="2,2,1")
    assert response.status_code == 201, response.text
    dataset = response.json()
    assert dataset["has_labels"] is False and dataset["label_names"] is None
    assert dataset["feature_names"] == ["f0", "f1", "f2", "f3"]
    assert dataset["image_shape"] == [2, 2, 1]
    assert_matches(dataset, X, settings)


def test_npy_two_dimensional(upload: Any, settings: Settings) -> None:
    X = random_matrix(20, 3, seed=1).astype(np.float64)
    response = upload("m.npy", npy_bytes(X), name="m")
    assert response.status_code == 201, response.text
    dataset = response.json()
    assert dataset["source_format"] == "npy" and dataset["has_labels"] is False
    assert dataset["feature_names"] == ["x0", "x1", "x2"]
    assert_matches(dataset, X, settings)


def test_npz_with_and_without_labels(upload: Any, settings: Settings) -> None:
    X = random_matrix(16, 4, seed=2)
    y = np.array([3, 1] * 8)
    with_y = upload("a.npz", npz_bytes(X=X, y=y), name="with-y").json()
    assert with_y["has_labels"] is True and with_y["label_names"] == ["1", "3"]
    assert_matches(with_y, X, settings)
    X2 = random_matrix(10, 4, seed=3)
    without_y = upload("b.npz", npz_bytes(X=X2), name="without-y")
    assert without_y.status_code == 201, without_y.text
    assert without_y.json()["has_labels"] is False
    assert_matches(without_y.json(), X2, settings)


def test_parquet_with_label_column(upload: Any, settings: Settings) -> None:
    X = random_matrix(25, 3, seed=4)
    table = pa.table({"u": X[:, 0], "v": X[:, 1], "w": X[:, 2], "kind": ["p", "q"] * 12 + ["p"]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    response = upload(
        "t.parquet", buffer.getvalue(), name="t", label_column="kind", image_shape="3,1"
    )
    assert response.status_code == 201, response.text
    dataset = response.json()
    assert dataset["source_format"] == "parquet"
    assert dataset["feature_names"] == ["u", "v", "w"]
    assert dataset["label_names"] == ["p", "q"] and dataset["has_labels"] is True
    assert dataset["image_shape"] == [3, 1, 1]
    assert_matches(dataset, X, settings)


def test_list_pages_and_counts(upload: Any, client: TestClient) -> None:
    for i in range(3):
        assert upload("x.npy", npy_bytes(random_matrix(5, 2, seed=i)), name=f"p{i}").is_success
    everything = client.get("/v1/datasets").json()
    assert everything["count"] == 6
    assert {d["name"] for d in everything["data"]} == BUILTINS | {"p0", "p1", "p2"}
    first = client.get("/v1/datasets", params={"limit": 4}).json()
    rest = client.get("/v1/datasets", params={"offset": 4, "limit": 4}).json()
    assert first["count"] == rest["count"] == 6
    assert len(first["data"]) == 4 and len(rest["data"]) == 2
    names = [d["name"] for d in first["data"] + rest["data"]]
    assert sorted(names) == sorted(d["name"] for d in everything["data"])
    assert client.get("/v1/datasets", params={"limit": 0}).status_code == 422


def test_get_by_id_and_name_then_delete(
    upload: Any, client: TestClient, settings: Settings
) -> None:
    created = upload("g.npy", npy_bytes(random_matrix(6, 2)), name="gone").json()
    assert client.get(f"/v1/datasets/{created['id']}").json() == created
    assert client.get("/v1/datasets/gone").json() == created
    blob = settings.resolved_artifact_root / "sha256" / created["sha256"][:2] / created["sha256"]
    assert blob.is_file()

    assert client.delete("/v1/datasets/gone").status_code == 204
    for ref in (created["id"], "gone"):
        response = client.get(f"/v1/datasets/{ref}")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert client.delete(f"/v1/datasets/{created['id']}").status_code == 404
    assert not blob.exists()


def test_identical_uploads_share_a_blob_until_both_are_deleted(
    upload: Any, client: TestClient, settings: Settings
) -> None:
    data = npy_bytes(random_matrix(6, 2))
    one = upload("a.npy", data, name="one").json()
    two = upload("b.npy", data, name="two").json()
    assert one["sha256"] == two["sha256"] and one["id"] != two["id"]
    blob = settings.resolved_artifact_root / "sha256" / one["sha256"][:2] / one["sha256"]
    assert client.delete("/v1/datasets/one").status_code == 204
    assert blob.is_file()
    assert client.get("/v1/datasets/two").status_code == 200
    assert client.delete("/v1/datasets/two").status_code == 204
    assert not blob.exists()


def test_delete_while_a_queued_job_uses_it_is_409(upload: Any, client: TestClient) -> None:
    assert upload("busy.npy", npy_bytes(random_matrix(40, 6)), name="busy").status_code == 201
    job = client.post("/v1/jobs", json=job_body(dataset="busy"))
    assert job.status_code == 202, job.text
    response = client.delete("/v1/datasets/busy")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "busy" in response.json()["detail"]
    assert client.get("/v1/datasets/busy").status_code == 200


def test_duplicate_name_is_409(upload: Any, client: TestClient) -> None:
    assert upload("a.npy", npy_bytes(random_matrix(5, 2)), name="twin").status_code == 201
    response = upload("b.npy", npy_bytes(random_matrix(5, 3, seed=9)), name="twin")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "twin" in response.json()["detail"]
    assert client.get("/v1/datasets/twin").json()["n_features"] == 2
    assert upload("c.npy", npy_bytes(random_matrix(5, 2)), name="digits").status_code == 409


@pytest.fixture
def unseeded(tmp_path: Path, database_url: str) -> Settings:
    """Settings whose database has no dataset yet: the `settings` fixture's come with the
    built-ins copied in (tests/factories.py), so only these show the start-up's own
    registration."""
    return Settings(data_dir=tmp_path / "var", database_url=database_url, workers=0)


def test_builtin_datasets_are_registered(unseeded: Settings) -> None:
    with TestClient(create_app(unseeded, start_workers=False)) as client:
        assert_builtins_registered(client)


def assert_builtins_registered(client: TestClient) -> None:
    digits = client.get("/v1/datasets/digits").json()
    assert (digits["n_rows"], digits["n_features"]) == (1797, 64)
    assert digits["has_labels"] is True and digits["label_names"] == [str(i) for i in range(10)]
    assert digits["image_shape"] == [8, 8, 1] and digits["builtin"] is True
    assert min(digits["stats"]["min"]) >= 0 and max(digits["stats"]["max"]) == 16
    pca3d = client.get("/v1/datasets/pca3d").json()
    assert (pca3d["n_rows"], pca3d["n_features"]) == (200, 3)
    assert pca3d["has_labels"] is False
    cancer = client.get("/v1/datasets/breast_cancer").json()
    assert (cancer["n_rows"], cancer["n_features"]) == (569, 30)
    assert cancer["has_labels"] is True and cancer["label_names"] == ["malignant", "benign"]


def test_starting_twice_does_not_duplicate_builtins(unseeded: Settings) -> None:
    with TestClient(create_app(unseeded, start_workers=False)) as first:
        before = first.get("/v1/datasets").json()
    with TestClient(create_app(unseeded, start_workers=False)) as second:
        after = second.get("/v1/datasets").json()
    assert before["count"] == after["count"] == 3
    assert {d["name"] for d in after["data"]} == BUILTINS
    assert {d["id"] for d in before["data"]} == {d["id"] for d in after["data"]}


def test_an_offset_past_64_bits_is_422_not_500(client: TestClient) -> None:
    # Found by tests/test_fuzz.py: the driver overflowed on OFFSET (a 500).
    response = client.get("/v1/datasets", params={"offset": 2**64})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "offset"
    assert client.get("/v1/datasets", params={"offset": 2**63 - 1}).json()["data"] == []


def test_a_name_is_never_read_as_an_id(client: TestClient) -> None:
    """{id_or_name}: 32 hex digits are an id, anything else a name; no name may look like an
    id (0.x looked up `id OR name`, so such a name could shadow another dataset's id)."""
    files = {"file": ("d.csv", csv_bytes(random_matrix(10, 3)), "text/csv")}
    first = client.post("/v1/datasets", files=files, data={"name": "plain"}).json()
    refused = client.post("/v1/datasets", files=files, data={"name": first["id"]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "name"
    assert "dataset id" in refused.json()["detail"]
    assert client.get(f"/v1/datasets/{first['id']}").json()["name"] == "plain"
    assert client.get("/v1/datasets/plain").json()["id"] == first["id"]
    missing = client.get(f"/v1/datasets/{'f' * 32}")
    assert missing.status_code == 404 and missing.json()["code"] == "dataset_not_found"
    assert client.post("/v1/datasets", files=files, data={"name": "F" * 32}).status_code == 201
