"""Imports whose files or fields lie: JSON nested past the parser, an image_shape that does
not hold n_features, float64 weights or statistics past float32's range."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from tests.registry.builders import model_blob

URL = "/v1/models/imported/versions"


def test_an_image_shape_that_does_not_hold_n_features_is_refused(
    client: TestClient,
) -> None:
    """A dense model's config claims image_shape [2, 2, 1] for 6 features (accepted, its
    plots were a 500: a reshape of 6 values into 2x2x1)."""
    blob, config = model_blob(seed=1, embed_config=False)
    config["image_shape"] = [2, 2, 1]
    r = client.post(
        URL, files={"file": ("m.safetensors", blob)}, data={"config": json.dumps(config)}
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "config.image_shape", r.text


def _import_with_metrics(client: TestClient, metrics: dict) -> Any:
    blob, _ = model_blob(seed=1)
    r = client.post(
        URL, files={"file": ("m.safetensors", blob)}, data={"metrics": json.dumps(metrics)}
    )
    return r


def test_a_coding_mean_past_float32_is_refused(client: TestClient) -> None:
    """Finite in float64, 1e300 is inf as the float32 generate draws in (it answered 200
    with null samples)."""
    r = _import_with_metrics(
        client, {"coding_mean": [1e300, 0.0], "coding_cov": [[1.0, 0.0], [0.0, 1.0]]}
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "metrics.coding_mean", r.text


def test_metrics_embedded_in_the_file_are_checked_and_named_there(client: TestClient) -> None:
    """A file's own metrics (the service's exports hold them) are checked as the form
    field's are, and a refusal names where they were."""
    blob, config = model_blob(seed=1, embed_config=False)
    tensors = load_safetensors(blob)
    metrics = {"threshold": 1e300}  # inf as the float32 score compares in
    metadata = {"config": json.dumps(config), "metrics": json.dumps(metrics)}
    r = client.post(URL, files={"file": ("m.safetensors", save_safetensors(tensors, metadata))})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "file.metadata.metrics.threshold", r.text
    metadata["metrics"] = "[1]"
    r = client.post(URL, files={"file": ("m.safetensors", save_safetensors(tensors, metadata))})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "file.metadata.metrics", r.text
    assert client.get("/v1/models/imported").status_code == 404  # nothing registered


DEEP = "[" * 100_000 + "]" * 100_000


def test_a_deeply_nested_safetensors_header_is_422(client: TestClient) -> None:
    header = DEEP.encode()
    blob = len(header).to_bytes(8, "little") + header
    r = client.post(URL, files={"file": ("m.safetensors", blob)})
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert r.json()["errors"][0]["field"] == "file"


def test_a_deeply_nested_config_form_field_is_422(client: TestClient) -> None:
    blob, _ = model_blob(seed=1, embed_config=False)
    r = client.post(URL, files={"file": ("m.safetensors", blob)}, data={"config": DEEP})
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert r.json()["errors"][0]["field"] == "config"


def test_a_deeply_nested_metrics_form_field_is_422(client: TestClient) -> None:
    blob, _ = model_blob(seed=1)
    r = client.post(URL, files={"file": ("m.safetensors", blob)}, data={"metrics": DEEP})
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert r.json()["errors"][0]["field"] == "metrics"


def test_float64_weights_past_float32_are_refused_not_stored_as_infinity(
    client: TestClient,
) -> None:
    """check_tensors checks finiteness in the file's dtype, then load_serving_model casts to
    float32: a float64 weight of 1e300 passes the "non-finite" check and is stored as inf."""
    import torch
    from safetensors.torch import load as load_safetensors
    from safetensors.torch import save as save_safetensors

    from tests.registry.builders import make_model

    model, config = make_model()
    tensors = {k: v.contiguous().to(torch.float64) for k, v in model.state_dict().items()}
    tensors["autoencoder.encoder.layers.0.weight"][0, 0] = 1e300
    blob = save_safetensors(tensors, metadata={"config": json.dumps(config)})
    r = client.post(URL, files={"file": ("m.safetensors", blob)})
    if r.status_code == 422:
        assert r.json()["errors"][0]["field"] == "file", r.text
        return
    assert r.status_code == 201, r.text
    stored = client.get(f"{URL}/1/artifact").content
    bad = [k for k, v in load_safetensors(stored).items() if not bool(torch.isfinite(v).all())]
    assert not bad, f"the registry stored non-finite tensors {bad}"
