"""Encode and reconstruct against one tiny model trained on digits by the real worker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.datasets import load_digits

from service.main import create_app
from tests.factories import job_body, module_settings, run_worker

CODE_SIZE = 4
MAX_REQUEST_ROWS = 50
ROWS = load_digits().data[:5].astype(np.float32)  # (5, 64), pixels 0..16
BASE = "/v1/models/digits-ae/versions"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app and one trained model for the whole module: training is the slow part."""
    data_dir = tmp_path_factory.mktemp("inference") / "var"
    with (
        module_settings(data_dir, max_request_rows=MAX_REQUEST_ROWS) as settings,
        TestClient(create_app(settings, start_workers=False)) as test_client,
    ):
        body = job_body(model_name="digits-ae", dataset="digits", code_size=CODE_SIZE)
        job = test_client.post("/v1/jobs", json=body).json()
        assert run_worker(settings) == 1
        done = test_client.get(f"/v1/jobs/{job['id']}").json()
        assert done["status"] == "succeeded", done
        yield test_client


def post(client: TestClient, path: str, rows: Any) -> Any:
    response = client.post(
        path, json={"inputs": rows.tolist() if hasattr(rows, "tolist") else rows}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_encode_gives_one_coding_per_row(client: TestClient) -> None:
    out = post(client, f"{BASE}/1/encode", ROWS)
    assert out["model"] == "digits-ae" and out["version"] == 1
    codings = np.asarray(out["codings"])
    assert codings.shape == (5, CODE_SIZE)
    assert np.isfinite(codings).all()
    assert out.get("log_var") is None
    assert not np.allclose(codings[0], codings[1])  # different digits, different codes


def test_reconstruct_is_in_the_dataset_units(client: TestClient) -> None:
    out = post(client, f"{BASE}/1/reconstruct", ROWS)
    assert out["model"] == "digits-ae" and out["version"] == 1
    recon = np.asarray(out["reconstructions"])
    assert recon.shape == (5, 64)
    errors = np.asarray(out["errors"])
    assert errors.shape == (5,) and (errors >= 0).all() and np.isfinite(errors).all()
    # Pixels are 0..16: a model that answered in its standardized space would be near 0.
    assert abs(recon.mean() - ROWS.mean()) < 2.0
    assert recon.max() > 4.0


def test_one_row_at_a_time_matches_the_batch(client: TestClient) -> None:
    batch = np.asarray(post(client, f"{BASE}/1/encode", ROWS)["codings"])
    single = np.asarray(post(client, f"{BASE}/1/encode", ROWS[2:3])["codings"])
    np.testing.assert_allclose(single[0], batch[2], rtol=1e-5, atol=1e-5)


def test_latest_and_version_one_agree(client: TestClient) -> None:
    for op in ("encode", "reconstruct"):
        by_number = post(client, f"{BASE}/1/{op}", ROWS)
        by_alias = post(client, f"{BASE}/latest/{op}", ROWS)
        assert by_alias == by_number


def assert_inputs_rejected(client: TestClient, response: Any, *, shape_named: bool) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["errors"][0]["field"].split(".")[0] == "inputs"
    if shape_named:
        assert "(n, 64)" in body["detail"]
    detail: str = body["detail"]
    return detail


@pytest.mark.parametrize("op", ["encode", "reconstruct"])
@pytest.mark.parametrize(
    "rows",
    [
        ROWS[:, :63].tolist(),  # one feature short
        np.hstack([ROWS, ROWS[:, :1]]).tolist(),  # one feature too many
        [],
        [ROWS[0].tolist(), ROWS[1, :10].tolist()],  # ragged
        [[]],
    ],
    ids=["63-features", "65-features", "empty", "ragged", "empty-row"],
)
def test_wrong_shape_is_422_naming_the_expected_shape(
    client: TestClient, op: str, rows: list[Any]
) -> None:
    response = client.post(f"{BASE}/1/{op}", json={"inputs": rows})
    assert_inputs_rejected(client, response, shape_named=True)


@pytest.mark.parametrize("op", ["encode", "reconstruct"])
def test_too_many_rows_is_413_with_the_limit(client: TestClient, op: str) -> None:
    rows = [ROWS[0].tolist()] * (MAX_REQUEST_ROWS + 1)
    response = client.post(f"{BASE}/1/{op}", json={"inputs": rows})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["limit_rows"] == MAX_REQUEST_ROWS
    assert f"limit of {MAX_REQUEST_ROWS} rows" in response.json()["detail"]
    assert (
        client.post(f"{BASE}/1/{op}", json={"inputs": rows[:MAX_REQUEST_ROWS]}).status_code == 200
    )


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e39"])  # 1e39: inf in float32
def test_non_finite_inputs_are_422(client: TestClient, token: str) -> None:
    row = ", ".join(["1.0"] * 63 + [token])
    content = f'{{"inputs": [[{", ".join(["2.0"] * 64)}], [{row}]]}}'
    response = client.post(
        f"{BASE}/1/reconstruct", content=content, headers={"content-type": "application/json"}
    )
    detail = assert_inputs_rejected(client, response, shape_named=True)
    assert "NaN or infinite" in detail and "row 1" in detail


def test_strings_are_422(client: TestClient) -> None:
    rows = [["a"] * 64, ROWS[0].tolist()]
    response = client.post(f"{BASE}/1/encode", json={"inputs": rows})
    detail = assert_inputs_rejected(client, response, shape_named=False)
    assert "number" in detail


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("/v1/models/nope/versions/1/encode", "nope"),
        (f"{BASE}/99/encode", "99"),
        (f"{BASE}/prod/encode", "prod"),
        (f"{BASE}/99/reconstruct", "99"),
    ],
    ids=["unknown-model", "unknown-version", "unknown-alias", "unknown-version-reconstruct"],
)
def test_unknown_model_version_or_alias_is_404(client: TestClient, path: str, needle: str) -> None:
    response = client.post(path, json={"inputs": ROWS.tolist()})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert needle in response.json()["detail"]
