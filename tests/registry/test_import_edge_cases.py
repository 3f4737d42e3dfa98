"""Imports of odd artifacts are a 201 or a 422, never a 500, and a refused one leaves no
blob: NaN in other metrics, int64 and bfloat16 tensors, NaN weights."""

from __future__ import annotations

import json

import httpx
import torch
from fastapi.testclient import TestClient
from safetensors.torch import save as save_safetensors

from service.config import Settings
from tests.registry.builders import make_model, model_blob, stored_blobs

URL = "/v1/models/imported/versions"


def post(client: TestClient, blob: bytes, **form: str) -> httpx.Response:
    return client.post(URL, files={"file": ("m.safetensors", blob)}, data=form)


def test_nan_in_other_metrics_is_not_a_500(client: TestClient) -> None:
    blob, config = model_blob(seed=1, embed_config=False)
    r = post(client, blob, config=json.dumps(config), metrics='{"val_mse": NaN}')
    assert r.status_code in (201, 422), (r.status_code, r.text[:300])
    if r.status_code == 201:
        g = client.get(f"{URL}/1")
        assert g.status_code == 200, (g.status_code, g.text[:300])


def test_wrong_dtype_tensor_is_422(client: TestClient, settings: Settings) -> None:
    model, config = make_model()
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    name = next(k for k, v in tensors.items() if v.is_floating_point() and v.ndim == 2)
    tensors[name] = tensors[name].to(torch.int64)
    blob = save_safetensors(tensors, metadata={"config": json.dumps(config)})
    before = stored_blobs(settings)
    r = post(client, blob)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert stored_blobs(settings) == before


def test_bf16_tensor(client: TestClient, settings: Settings) -> None:
    model, config = make_model()
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    tensors = {
        k: (v.to(torch.bfloat16) if v.is_floating_point() else v) for k, v in tensors.items()
    }
    blob = save_safetensors(tensors, metadata={"config": json.dumps(config)})
    r = post(client, blob)
    assert r.status_code in (201, 422), (r.status_code, r.text[:300])


def test_nan_weights(client: TestClient, settings: Settings) -> None:
    model, config = make_model()
    tensors = {k: v.contiguous().clone() for k, v in model.state_dict().items()}
    name = next(k for k, v in tensors.items() if v.is_floating_point() and v.ndim == 2)
    tensors[name][0, 0] = float("nan")
    blob = save_safetensors(tensors, metadata={"config": json.dumps(config)})
    r = post(client, blob)
    assert r.status_code in (201, 422), (r.status_code, r.text[:300])
    if r.status_code == 201:  # served: a NaN answer is refused, not a 500
        e = client.post(f"{URL}/1/encode", json={"inputs": [[0.0] * 6]})
        assert e.status_code != 500, e.text[:300]
