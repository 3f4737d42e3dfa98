"""Import a model trained elsewhere: strict checks, 422 naming what is wrong, nothing left."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from service.config import Settings
from tests.registry.builders import make_model, model_blob, raw_rows, stored_blobs

URL = "/v1/models/imported/versions"


def post(client: TestClient, blob: bytes, **form: str) -> Any:
    return client.post(URL, files={"file": ("m.safetensors", blob)}, data=form)


def test_import_registers_the_next_version(client: TestClient, settings: Settings) -> None:
    blob, config = model_blob(seed=1, embed_config=False)
    first = post(client, blob, config=json.dumps(config), metrics=json.dumps({"val_mse": 0.5}))
    assert first.status_code == 201, first.text
    version = first.json()
    assert first.headers["location"] == f"{URL}/1"
    assert version["version"] == 1 and version["status"] == "ready"
    assert version["source_job_id"] is None and version["dataset_id"] is None
    assert version["metrics"] == {"val_mse": 0.5}
    assert version["n_features"] == 6 and version["code_size"] == 2
    assert version["kind"] == "dense" and version["torch_version"] == torch.__version__
    assert version["spec"]["architecture"]["hidden_sizes"] == [16]

    embedded, _ = model_blob(seed=2)  # config in the safetensors metadata, no form field
    second = post(client, embedded)
    assert second.status_code == 201, second.text
    assert second.json()["version"] == 2 and second.json()["metrics"] == {}

    # The stored blob is canonical (config embedded) and serves the model that was sent.
    stored = client.get(f"{URL}/1/artifact").content
    assert json.loads(json.loads(_metadata(stored))["config"])["n_features"] == 6
    model, _ = make_model(seed=1)
    rows = raw_rows(4)
    served = client.post(f"{URL}/1/encode", json={"inputs": rows.tolist()}).json()["codings"]
    expected = model.encode(torch.from_numpy(rows)).detach().numpy()
    np.testing.assert_allclose(np.asarray(served), expected, rtol=1e-5, atol=1e-5)
    assert set(load_safetensors(stored)) == set(model.state_dict())


def _metadata(blob: bytes) -> str:
    size = int.from_bytes(blob[:8], "little")
    return json.dumps(json.loads(blob[8 : 8 + size])["__metadata__"])


def _with_tensor(name: str, value: torch.Tensor | None) -> bytes:
    model, config = make_model()
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    if value is None:
        del tensors[name]
    else:
        tensors[name] = value
    return save_safetensors(tensors, metadata={"config": json.dumps(config)})


def _with_config(**changes: Any) -> tuple[bytes, dict[str, str]]:
    """A good blob with a config form field changed at `a__b__c` paths."""
    blob, config = model_blob(embed_config=False)
    for dotted, value in changes.items():
        target = config
        *path, last = dotted.split("__")
        for key in path:
            target = target[key]
        target[last] = value
    return blob, {"config": json.dumps(config)}


BAD_IMPORTS = {
    "not safetensors": (b"definitely not a safetensors file", {}, "file", "safetensors"),
    "no config": (model_blob(embed_config=False)[0], {}, "config", "required"),
    "config not json": (model_blob()[0], {"config": "{nope"}, "config", "JSON"),
    "config not object": (model_blob()[0], {"config": "[1]"}, "config", "object"),
    "bad format_version": (*_with_config(format_version=9), "config.format_version", "9"),
    "bad activation": (
        *_with_config(spec__architecture__activation="x"),
        "config.spec.architecture.activation",
        "elu",
    ),
    "contradicting spec": (
        *_with_config(spec__architecture__tied_weights=True, spec__architecture__kind="vae"),
        "config.spec.architecture.tied_weights",
        "dense",
    ),
    "bad n_features": (*_with_config(n_features="6"), "config.n_features", "positive"),
    "wrong n_features": (*_with_config(n_features=7), "file", "shape"),
    "wrong tensor shape": (
        _with_tensor("autoencoder.encoder.layers.0.weight", torch.zeros(16, 5)),
        {},
        "file",
        "autoencoder.encoder.layers.0.weight",
    ),
    "missing tensor": (_with_tensor("preprocessor.scale", None), {}, "file", "missing"),
    "extra tensor": (_with_tensor("extra", torch.zeros(3)), {}, "file", "extra"),
    "non-finite": (
        _with_tensor("autoencoder.decoder.layers.0.bias", torch.full((16,), float("nan"))),
        {},
        "file",
        "non-finite",
    ),
    "integer tensor": (
        _with_tensor("preprocessor.shift", torch.zeros(6, dtype=torch.int32)),
        {},
        "file",
        "dtype",
    ),
    "bad metrics": (model_blob()[0], {"metrics": "[]"}, "metrics", "object"),
}


@pytest.mark.parametrize("case", list(BAD_IMPORTS))
def test_bad_import_is_422_and_leaves_nothing(
    client: TestClient, settings: Settings, case: str
) -> None:
    blobs_before = stored_blobs(settings)
    blob, form, field, words = BAD_IMPORTS[case]
    response = post(client, blob, **form)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["errors"][0]["field"] == field
    assert words in body["detail"], body["detail"]
    assert client.get("/v1/models/imported").status_code == 404  # no model row
    assert stored_blobs(settings) == blobs_before  # no blob


def test_bad_import_into_an_existing_model_keeps_its_numbering(client: TestClient) -> None:
    assert post(client, model_blob(seed=1)[0]).status_code == 201
    assert post(client, b"junk").status_code == 422
    assert client.get(URL).json()["count"] == 1
    assert post(client, model_blob(seed=2)[0]).json()["version"] == 2


def test_bad_model_name_is_422(client: TestClient) -> None:
    response = client.post(
        "/v1/models/bad name!/versions", files={"file": ("m.safetensors", model_blob()[0])}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "name"


def test_a_tiny_file_whose_config_describes_a_huge_network_is_refused_before_building_it(
    client: TestClient, settings: Settings
) -> None:
    """Issue 22, defect 1: a 186-byte file with n_features 65536 and hidden_sizes [65536]
    (8.6e9 parameters, 34 GB) OOM-killed the API. Now it is counted on the meta device."""
    config = {
        "spec": {"architecture": {"code_size": 2, "hidden_sizes": [65536]}},
        "n_features": 65536,
        "image_shape": None,
        "format_version": 1,
    }
    blob = save_safetensors({"x": torch.zeros(1)}, metadata={"config": json.dumps(config)})
    assert len(blob) < 400
    before = stored_blobs(settings)
    response = post(client, blob)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["field"] == "config.spec.architecture", problem
    assert "AESVC_MAX_MODEL_PARAMETERS" in problem["detail"]
    assert stored_blobs(settings) == before


def test_a_network_over_the_parameter_cap_is_refused_even_with_fitting_tensors(
    settings: Settings,
) -> None:
    from service.main import create_app

    capped = settings.model_copy(update={"max_model_parameters": 100})
    blob, config = model_blob(seed=1, embed_config=False)  # 6 -> 16 -> 2 -> 16 -> 6
    with TestClient(create_app(capped, start_workers=False)) as client:
        response = post(client, blob, config=json.dumps(config))
        assert response.status_code == 422, response.text
        assert "the limit is 100" in response.json()["detail"]
        assert client.get("/v1/models/imported").status_code == 404
