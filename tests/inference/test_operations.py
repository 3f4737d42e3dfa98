"""Every v1 operation, in JSON and in .npy, on a dense AE and a VAE; bad inputs are 4xx."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from service.registry.service import SERVING_METRICS
from tests.factories import npy_bytes
from tests.inference.conftest import CODE_SIZE, DIGITS

AE = "/v1/models/digits-ae/versions/1"
VAE = "/v1/models/digits-vae/versions/latest"
ROWS = DIGITS[:6]
NPY = "application/x-npy"


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def npy_post(client: TestClient, path: str, array: np.ndarray) -> np.ndarray:
    response = client.post(
        path, content=npy_bytes(array), headers={"content-type": NPY, "accept": NPY}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == NPY
    assert response.headers["x-model-version"] == "1"
    return np.load(io.BytesIO(response.content), allow_pickle=False)


def problem(response: Any, status: int = 422) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail: str = response.json()["detail"]
    return detail


def test_encode_json_and_npy_agree(served: TestClient) -> None:
    out = ok(served.post(f"{AE}/encode", json={"inputs": ROWS.tolist()}))
    assert (out["model"], out["version"]) == ("digits-ae", 1)
    codings = np.asarray(out["codings"], dtype=np.float32)
    assert codings.shape == (6, CODE_SIZE)
    np.testing.assert_allclose(npy_post(served, f"{AE}/encode", ROWS), codings, atol=1e-6)
    np.testing.assert_allclose(  # float64 .npy is accepted too
        npy_post(served, f"{AE}/encode", ROWS.astype(np.float64)), codings, atol=1e-6
    )


def test_decode_inverts_encode_roughly(served: TestClient) -> None:
    codings = ok(served.post(f"{AE}/encode", json={"inputs": ROWS.tolist()}))["codings"]
    out = ok(served.post(f"{AE}/decode", json={"codings": codings}))
    outputs = np.asarray(out["outputs"])
    assert out["version"] == 1 and outputs.shape == (6, 64)
    recon = np.asarray(
        ok(served.post(f"{AE}/reconstruct", json={"inputs": ROWS.tolist()}))["reconstructions"]
    )
    np.testing.assert_allclose(outputs, recon, atol=1e-4)  # decode(encode(x)) == reconstruct(x)
    as_npy = npy_post(served, f"{AE}/decode", np.asarray(codings, dtype=np.float32))
    np.testing.assert_allclose(as_npy, outputs, atol=1e-5)


def test_reconstruct_npy_returns_the_reconstructions(served: TestClient) -> None:
    out = ok(served.post(f"{AE}/reconstruct", json={"inputs": ROWS.tolist()}))
    errors, recon = np.asarray(out["errors"]), np.asarray(out["reconstructions"])
    assert errors.shape == (6,) and (errors >= 0).all()
    # each row's error is in the data's units: what a user computes from the two arrays
    np.testing.assert_allclose(errors, ((recon - ROWS) ** 2).mean(axis=1), rtol=1e-4)
    np.testing.assert_allclose(npy_post(served, f"{AE}/reconstruct", ROWS), recon, atol=1e-5)


def test_score_flags_rows_above_the_threshold(served: TestClient) -> None:
    threshold = ok(served.get("/v1/models/digits-ae/versions/1"))["metrics"]["threshold"]
    noisy = ROWS.copy()
    noisy[0] = 16.0 - noisy[0]  # an inverted digit is an anomaly
    out = ok(served.post(f"{AE}/score", json={"inputs": noisy.tolist()}))
    scores = np.asarray(out["scores"])
    assert out["threshold"] == pytest.approx(threshold)
    assert out["is_anomaly"] == [bool(s > threshold) for s in scores]
    assert out["is_anomaly"][0] is True and scores[0] > scores[1:].max()
    npy_scores = npy_post(served, f"{AE}/score", noisy)
    assert npy_scores.shape == (6,)
    np.testing.assert_allclose(npy_scores, scores, rtol=1e-5)


def test_score_takes_a_contamination_or_a_threshold_per_request(served: TestClient) -> None:
    body = {"inputs": ROWS.tolist()}
    stored = ok(served.post(f"{AE}/score", json=body))
    wide = ok(served.post(f"{AE}/score", json={**body, "contamination": 0.4}))
    assert wide["scores"] == stored["scores"]
    assert wide["threshold"] < stored["threshold"]  # flag 40 % of the fitted rows, not 5 %
    lowest = min(stored["scores"])
    given = ok(served.post(f"{AE}/score", json={**body, "threshold": lowest}))
    assert given["threshold"] == lowest
    assert given["is_anomaly"] == [s > lowest for s in stored["scores"]]
    both = served.post(f"{AE}/score", json={**body, "threshold": 1.0, "contamination": 0.1})
    assert both.status_code == 422 and "threshold" in both.text
    for bad in ({"contamination": 0.5}, {"contamination": 0}, {"threshold": "x"}):
        refused = served.post(f"{AE}/score", json={**body, **bad})
        assert refused.status_code == 422, bad
        assert next(iter(bad)) in refused.text


def test_an_exported_version_imported_elsewhere_scores_and_generates_as_the_original(
    served: TestClient,
) -> None:
    """The safetensors export holds the metrics serving reads beside its config: imported
    with no form field but the file, the copy keeps the threshold, the score's quantiles and
    the coding statistics generate samples from (not the timings: two equal trainings store
    one file)."""
    blob = served.get(f"{AE}/artifact").content
    assert "metrics" in safetensors_metadata(blob)
    copy = "/v1/models/digits-ae-copy/versions"
    imported = served.post(copy, files={"file": ("m.safetensors", blob)})
    assert imported.status_code == 201, imported.text
    theirs = ok(served.get(AE))["metrics"]
    assert imported.json()["metrics"] == {k: theirs[k] for k in SERVING_METRICS if k in theirs}
    assert {"threshold", "score_quantiles", "coding_mean", "coding_cov"} <= set(theirs)
    body = {"inputs": ROWS.tolist()}
    for extra in ({}, {"contamination": 0.1}):
        ours, theirs = (
            ok(served.post(f"{v}/score", json={**body, **extra})) for v in (f"{copy}/1", AE)
        )
        assert (ours["scores"], ours["threshold"]) == (theirs["scores"], theirs["threshold"])
    ours, theirs = (
        ok(served.post(f"{v}/generate", json={"n": 2, "seed": 0})) for v in (f"{copy}/1", AE)
    )
    assert ours["samples"] == theirs["samples"]


def test_a_file_without_metrics_imported_says_what_score_and_generate_need(
    served: TestClient,
) -> None:
    """A file made elsewhere holds no metrics: score once answered "expected a trained
    version", contamination "trained before they were" and generate "a version trained by
    this service", none naming the way out; the metrics form field supplies them."""
    exported = served.get(f"{AE}/artifact").content
    tensors, config = load_safetensors(exported), safetensors_metadata(exported)["config"]
    bare = save_safetensors(tensors, metadata={"config": config})
    metrics = ok(served.get(AE))["metrics"]
    copy = "/v1/models/digits-ae-bare/versions"
    assert served.post(copy, files={"file": ("m.safetensors", bare)}).status_code == 201
    body = {"inputs": ROWS.tolist()}
    assert "import it with its metrics" in problem(served.post(f"{copy}/1/score", json=body))
    refused = problem(served.post(f"{copy}/1/score", json={**body, "contamination": 0.1}))
    assert "imported without them in its metrics" in refused
    assert "an import with its metrics" in problem(served.post(f"{copy}/1/generate", json={}))
    imported = served.post(
        copy, files={"file": ("m.safetensors", bare)}, data={"metrics": json.dumps(metrics)}
    )
    assert imported.status_code == 201, imported.text
    ours, theirs = (ok(served.post(f"{v}/score", json=body)) for v in (f"{copy}/2", AE))
    assert (ours["scores"], ours["threshold"]) == (theirs["scores"], theirs["threshold"])
    ok(served.post(f"{copy}/2/score", json={**body, "contamination": 0.1}))
    ok(served.post(f"{copy}/2/generate", json={"n": 2, "seed": 0}))


def safetensors_metadata(blob: bytes) -> dict[str, str]:
    header = json.loads(blob[8 : 8 + int.from_bytes(blob[:8], "little")])
    return dict(header.get("__metadata__") or {})


def test_a_row_whose_error_is_not_a_number_is_an_anomaly(served: TestClient) -> None:
    """Finite but extreme inputs can make the error inf - inf = NaN; NaN > threshold is
    false, and the most extreme rows must not slip past the detector."""
    extreme = np.full((2, ROWS.shape[1]), 1e38, np.float32)
    scores = npy_post(served, f"{AE}/score", extreme)
    assert not np.isfinite(scores).all()  # the case this test is about
    out = ok(served.post(f"{AE}/score", json={"inputs": extreme.tolist()}))
    assert out["is_anomaly"] == [True, True]


def test_vae_encode_gives_mean_and_log_var_and_seeded_samples(served: TestClient) -> None:
    mean_out = ok(served.post(f"{VAE}/encode", json={"inputs": ROWS.tolist()}))
    mean, log_var = np.asarray(mean_out["codings"]), np.asarray(mean_out["log_var"])
    assert mean.shape == log_var.shape == (6, CODE_SIZE)
    body = {"inputs": ROWS.tolist(), "sample": True, "seed": 7}
    a = np.asarray(ok(served.post(f"{VAE}/encode", json=body))["codings"])
    b = np.asarray(ok(served.post(f"{VAE}/encode", json=body))["codings"])
    c = np.asarray(ok(served.post(f"{VAE}/encode", json={**body, "seed": 8}))["codings"])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, mean)
    np.testing.assert_allclose(npy_post(served, f"{VAE}/encode", ROWS), mean, atol=1e-6)


def test_sample_on_a_non_vae_is_422(served: TestClient) -> None:
    body = {"inputs": ROWS.tolist(), "sample": True}
    assert "variational" in problem(served.post(f"{AE}/encode", json=body))


@pytest.mark.parametrize(("path", "method"), [(AE, "fitted_gaussian"), (VAE, "prior")])
def test_generate_is_deterministic_per_seed(served: TestClient, path: str, method: str) -> None:
    a = ok(served.post(f"{path}/generate", json={"n": 5, "seed": 3}))
    b = ok(served.post(f"{path}/generate", json={"n": 5, "seed": 3}))
    c = ok(served.post(f"{path}/generate", json={"n": 5, "seed": 4}))
    assert a["method"] == method and a["model"] in path
    samples = np.asarray(a["samples"])
    assert samples.shape == (5, 64) and np.isfinite(samples).all()
    assert a["samples"] == b["samples"] and a["samples"] != c["samples"]
    response = served.post(f"{path}/generate", json={"n": 5, "seed": 3}, headers={"accept": NPY})
    as_npy = np.load(io.BytesIO(response.content), allow_pickle=False)
    np.testing.assert_allclose(as_npy, samples, atol=1e-5)


def test_fitted_gaussian_samples_look_like_digits(served: TestClient) -> None:
    samples = np.asarray(ok(served.post(f"{AE}/generate", json={"n": 500, "seed": 0}))["samples"])
    assert abs(samples.mean() - DIGITS.mean()) < 2.0  # raw units (pixels 0..16)


@pytest.mark.parametrize("path", [AE, VAE])
def test_interpolate_runs_from_start_to_end(served: TestClient, path: str) -> None:
    body = {"start": ROWS[0].tolist(), "end": ROWS[1].tolist(), "steps": 5}
    outputs = np.asarray(ok(served.post(f"{path}/interpolate", json=body))["outputs"])
    assert outputs.shape == (5, 64)
    codings = ok(served.post(f"{path}/encode", json={"inputs": ROWS[:2].tolist()}))["codings"]
    recon = np.asarray(ok(served.post(f"{path}/decode", json={"codings": codings}))["outputs"])
    np.testing.assert_allclose(outputs[[0, -1]], recon, atol=1e-4)  # the ends are the rows' own
    response = served.post(f"{path}/interpolate", json=body, headers={"accept": NPY})
    np.testing.assert_allclose(np.load(io.BytesIO(response.content)), outputs, atol=1e-5)


@pytest.mark.parametrize(
    ("op", "body", "needle"),
    [
        ("generate", {"n": 0}, "1 <= n <= 10000"),
        ("generate", {"n": -3}, "1 <= n <= 10000"),
        ("generate", {"n": 10001}, "1 <= n <= 10000"),
        ("interpolate", {"start": [0.0] * 64, "end": [0.0] * 64, "steps": 1}, "2 <= steps"),
        ("interpolate", {"start": [0.0] * 63, "end": [0.0] * 64}, "(n, 64)"),
        ("decode", {"codings": [[0.0] * (CODE_SIZE + 1)]}, f"(n, {CODE_SIZE})"),
        ("decode", {"codings": [[float("nan")] * CODE_SIZE]}, "NaN"),
        ("score", {"inputs": [["x"] * 64]}, "number"),
        ("encode", {"inputs": [[1.0] * 64], "bogus": 1}, "bogus"),
    ],
    ids=[
        "n=0",
        "n<0",
        "n>max",
        "steps=1",
        "start-63",
        "decode-width",
        "decode-nan",
        "score-strings",
        "extra-field",
    ],
)
def test_bad_bodies_are_422_saying_what_was_expected(
    served: TestClient, op: str, body: dict[str, Any], needle: str
) -> None:
    response = served.post(
        f"{AE}/{op}",
        content=json.dumps(body),
        headers={"content-type": "application/json"},
    )
    assert needle in problem(response)


def test_malformed_and_3d_npy_are_422(served: TestClient) -> None:
    headers = {"content-type": NPY}
    garbage = served.post(f"{AE}/encode", content=b"\x93NUMPY garbage", headers=headers)
    assert "2-D float32 or float64" in problem(garbage)
    cube = served.post(
        f"{AE}/encode", content=npy_bytes(np.zeros((2, 8, 8), np.float32)), headers=headers
    )
    assert "3-D" in problem(cube)
    ints = served.post(
        f"{AE}/score", content=npy_bytes(np.zeros((2, 64), np.int64)), headers=headers
    )
    assert "int64" in problem(ints)
    narrow = served.post(
        f"{AE}/reconstruct", content=npy_bytes(np.zeros((2, 63), np.float32)), headers=headers
    )
    assert "(n, 64)" in problem(narrow)


def test_unsupported_content_type_is_415(served: TestClient) -> None:
    response = served.post(f"{AE}/encode", content=b"a,b", headers={"content-type": "text/csv"})
    assert "application/x-npy" in problem(response, 415)
    response = served.post(f"{AE}/generate", content=npy_bytes(ROWS), headers={"content-type": NPY})
    problem(response, 415)


def test_openapi_documents_both_bodies(served: TestClient) -> None:
    paths = served.get("/openapi.json").json()["paths"]
    ops = {op["operationId"] for item in paths.values() for op in item.values()}
    assert {
        "encode",
        "decode",
        "reconstruct",
        "score",
        "generate",
        "interpolate",
        "read_metrics",
        "oip_infer",
    } <= ops
    encode = paths["/v1/models/{name}/versions/{ref}/encode"]["post"]
    assert set(encode["requestBody"]["content"]) == {"application/json", NPY}
    assert NPY in encode["responses"]["200"]["content"]
