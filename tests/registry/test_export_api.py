"""Export: the stored safetensors as is; ONNX and TorchScript graphs that take raw inputs and
agree with the API to 1e-5, at any batch size, TorchScript in a fresh process."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
import torch
from fastapi.testclient import TestClient
from safetensors.torch import load as load_safetensors
from sklearn.datasets import load_digits
from sqlalchemy import select

from service.config import Settings
from service.context import AppContext
from service.main import create_app
from service.registry.tables import ModelExport
from service.zoo.serving import load_serving_model
from tests.factories import job_body, module_settings, run_worker
from tests.registry.builders import blob_path, import_model, raw_rows

ROWS = load_digits().data[:7].astype(np.float32)  # (7, 64), pixels 0..16
V1 = "/v1/models/digits-ae/versions/1"
TOL = {"rtol": 1e-5, "atol": 1e-5}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings]]:
    """One trained model for the module."""
    data_dir = tmp_path_factory.mktemp("export") / "var"
    with (
        module_settings(data_dir) as settings,
        TestClient(create_app(settings, start_workers=False)) as client,
    ):
        client.post("/v1/jobs", json=job_body(model_name="digits-ae", code_size=4))
        assert run_worker(settings) == 1
        assert client.get(V1).status_code == 200
        yield client, settings


def api(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def download(client: TestClient, path: str, **params: str) -> bytes:
    response = client.get(f"{path}/artifact", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["x-checksum-sha256"] == hashlib.sha256(response.content).hexdigest()
    return response.content


def run_onnx(blob: bytes, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    (only_input,) = session.get_inputs()
    return np.asarray(session.run(None, {only_input.name: x})[0])


def test_onnx_parts_match_the_api(app: tuple[TestClient, Settings]) -> None:
    client, _ = app
    encoder = download(client, V1, format="onnx", part="encoder")
    decoder = download(client, V1, format="onnx", part="decoder")
    full = download(client, V1, format="onnx", part="full")

    inputs = ort.InferenceSession(encoder).get_inputs()[0]
    assert inputs.name == "x_raw" and inputs.shape[1] == 64 and not isinstance(inputs.shape[0], int)
    assert ort.InferenceSession(decoder).get_inputs()[0].name == "codings"

    codings = np.asarray(api(client, f"{V1}/encode", {"inputs": ROWS.tolist()})["codings"])
    np.testing.assert_allclose(run_onnx(encoder, ROWS), codings, **TOL)
    np.testing.assert_allclose(run_onnx(encoder, ROWS[:1]), codings[:1], **TOL)  # any batch

    stored = load_serving_model(_config(client), load_safetensors(download(client, V1)))
    z = codings.astype(np.float32)
    expected = stored.decode(torch.from_numpy(z)).detach().numpy()
    np.testing.assert_allclose(run_onnx(decoder, z), expected, **TOL)
    assert np.abs(expected).max() > 1.0  # raw pixel units, not standardized ones

    recon = api(client, f"{V1}/reconstruct", {"inputs": ROWS.tolist()})["reconstructions"]
    np.testing.assert_allclose(run_onnx(full, ROWS), np.asarray(recon), **TOL)


def _config(client: TestClient) -> dict[str, Any]:
    """The stored config (in the artifact's own metadata: the blob describes itself)."""
    blob = download(client, V1)
    header = json.loads(blob[8 : 8 + int.from_bytes(blob[:8], "little")])
    config: dict[str, Any] = json.loads(header["__metadata__"]["config"])
    return config


FRESH_PROCESS = """
import sys
import numpy as np
import torch
for model_path, input_path, output_path in zip(*[iter(sys.argv[1:])] * 3):
    module = torch.jit.load(model_path)
    x = torch.from_numpy(np.load(input_path))
    np.save(output_path, module(x).detach().numpy())
"""


@pytest.mark.slow  # a fresh interpreter
def test_torchscript_parts_run_in_a_fresh_process(
    app: tuple[TestClient, Settings], tmp_path: Path
) -> None:
    client, _ = app
    codings = np.asarray(api(client, f"{V1}/encode", {"inputs": ROWS.tolist()})["codings"])
    recon = api(client, f"{V1}/reconstruct", {"inputs": ROWS.tolist()})["reconstructions"]
    z = codings[:3].astype(np.float32)
    np.save(tmp_path / "rows.npy", ROWS)
    np.save(tmp_path / "z.npy", z)
    args = []
    for part, given in (("encoder", "rows"), ("decoder", "z"), ("full", "rows")):
        (tmp_path / f"{part}.pt").write_bytes(download(client, V1, format="torchscript", part=part))
        args += [str(tmp_path / f"{part}.pt"), str(tmp_path / f"{given}.npy")]
        args.append(str(tmp_path / f"{part}-out.npy"))
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr

    np.testing.assert_allclose(np.load(tmp_path / "encoder-out.npy"), codings, **TOL)
    np.testing.assert_allclose(np.load(tmp_path / "full-out.npy"), np.asarray(recon), **TOL)
    stored = load_serving_model(_config(client), load_safetensors(download(client, V1)))
    expected = stored.decode(torch.from_numpy(z)).detach().numpy()
    np.testing.assert_allclose(np.load(tmp_path / "decoder-out.npy"), expected, **TOL)


def test_safetensors_is_the_stored_blob(app: tuple[TestClient, Settings]) -> None:
    client, settings = app
    version = client.get(V1).json()
    response = client.get(f"{V1}/artifact")
    assert response.status_code == 200
    assert response.content == blob_path(settings, version["artifact_sha256"]).read_bytes()
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-checksum-sha256"] == version["artifact_sha256"]
    assert response.headers["etag"] == f'"{version["artifact_sha256"]}"'
    assert 'filename="digits-ae-v1.safetensors"' in response.headers["content-disposition"]
    assert client.get("/v1/models/digits-ae/versions/latest/artifact").content == response.content

    again = client.get(f"{V1}/artifact", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    encoder = client.get(f"{V1}/artifact", params={"part": "encoder"})
    assert encoder.status_code == 422 and encoder.json()["errors"][0]["field"] == "part"
    assert client.get(f"{V1}/artifact", params={"format": "pickle"}).status_code == 422
    assert client.get(f"{V1}/artifact", params={"part": "middle"}).status_code == 422
    assert client.get("/v1/models/digits-ae/versions/9/artifact").status_code == 404
    assert client.get("/v1/models/nope/versions/1/artifact").status_code == 404


def test_exports_are_built_once_and_kept(app: tuple[TestClient, Settings]) -> None:
    client, settings = app
    version = client.get(V1).json()
    first = client.get(f"{V1}/artifact", params={"format": "torchscript", "part": "encoder"})
    ctx = AppContext.from_settings(settings)
    try:
        with ctx.session_factory() as session:
            row = session.scalars(
                select(ModelExport).where(
                    ModelExport.artifact_sha256 == version["artifact_sha256"],
                    ModelExport.format == "torchscript",
                    ModelExport.part == "encoder",
                )
            ).one()
    finally:
        ctx.close()
    assert row.export_sha256 == first.headers["x-checksum-sha256"]
    assert 'filename="digits-ae-v1-encoder.pt"' in first.headers["content-disposition"]
    cached = blob_path(settings, row.export_sha256)
    assert cached.read_bytes() == first.content
    second = client.get(f"{V1}/artifact", params={"format": "torchscript", "part": "encoder"})
    assert second.content == first.content

    cached.unlink()  # the cache is only a cache: a lost export is built again
    third = client.get(f"{V1}/artifact", params={"format": "torchscript", "part": "encoder"})
    assert third.status_code == 200, third.text
    assert blob_path(settings, third.headers["x-checksum-sha256"]).read_bytes() == third.content


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("vae", {}),
        ("conv", {"n_features": 16, "image_shape": (4, 4, 1), "conv_channels": [4, 8]}),
    ],
)
def test_vae_and_conv_export_raw_unit_graphs(
    app: tuple[TestClient, Settings], kind: str, extra: dict[str, Any]
) -> None:
    client, _ = app
    name = f"{kind}-imported"
    import_model(client, name, kind=kind, **extra)
    path = f"/v1/models/{name}/versions/1"
    rows = raw_rows(5, extra.get("n_features", 6))
    encoded = api(client, f"{path}/encode", {"inputs": rows.tolist()})
    encoder = download(client, path, format="onnx", part="encoder")
    np.testing.assert_allclose(run_onnx(encoder, rows), np.asarray(encoded["codings"]), **TOL)
    if kind == "vae":
        assert encoded["log_var"] is not None  # the graph gave the mean, not a sample
    recon = api(client, f"{path}/reconstruct", {"inputs": rows.tolist()})["reconstructions"]
    full = download(client, path, format="torchscript", part="full")
    module = torch.jit.load(io.BytesIO(full))
    np.testing.assert_allclose(
        module(torch.from_numpy(rows[:2])).detach().numpy(), np.asarray(recon)[:2], **TOL
    )


@pytest.mark.slow  # fresh interpreters
@pytest.mark.any_database
def test_a_weights_file_is_the_same_bytes_in_every_process() -> None:
    """safetensors writes its metadata from a hash map whose order changes from process to
    process: with the metrics beside the config, one training in two processes stored two
    files (a resumed job's weights no longer matched an uninterrupted run's sha256)."""
    probe = (
        "import hashlib, torch; from service.registry.service import weights_blob; "
        "blob = weights_blob({'w': torch.ones(3)}, {'n_features': 3}, "
        "{'threshold': 2.5, 'coding_mean': [0.0], 'val_mse': 1.0}); "
        "from safetensors.torch import load; assert load(blob)['w'].tolist() == [1.0] * 3; "
        "print(hashlib.sha256(blob).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(6)
    }
    assert len(digests) == 1, digests
