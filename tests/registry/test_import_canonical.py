"""The blob an import stores is the canonical file, byte for byte: float32 tensors in name
order, the normalised config and the serving metrics in its metadata, as weights_blob writes
it for a trained version. The sha256s are pinned (computed by the import before it streamed
the blob a tensor at a time): an equal upload names the same blob as it always did."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient
from safetensors.torch import save as save_safetensors

from service.idempotency import request_digest
from service.registry import imports
from service.registry.service import weights_blob
from service.zoo.serving import SCORE_BUFFERS, load_serving_model
from tests.registry.builders import make_model

URL = "/v1/models/imported/versions"
METRICS = {
    "threshold": 1.5,
    "contamination": 0.1,
    "coding_mean": [0.25, -0.5],
    "coding_cov": [[1.0, 0.1], [0.1, 2.0]],
    "val_mse": 0.125,  # not a serving metric: the row keeps it, the blob does not
}


def fixed_upload(kind: str, dtype: torch.dtype, format_version: int) -> tuple[dict, dict]:
    """Tensors whose values follow from their shapes alone (no RNG), and their config."""
    model, config = make_model(kind=kind, n_features=6, code_size=2)
    config = {**config, "format_version": format_version}
    tensors = {}
    for name, value in model.state_dict().items():
        if format_version == 1 and name in SCORE_BUFFERS:
            continue
        steps = torch.linspace(-1.0, 1.0, value.numel(), dtype=torch.float64)
        fixed = steps.reshape(value.shape) / 3 + (2.0 if name == "preprocessor.scale" else 0.0)
        tensors[name] = fixed.to(dtype).contiguous()
    return tensors, config


CASES: dict[str, tuple[str, torch.dtype, int, bool, str]] = {
    # id: kind, dtype of the upload, format_version, metrics sent, the stored blob's sha256
    "dense-f32": (
        "dense",
        torch.float32,
        2,
        False,
        "64c5c0fd895060f826c2f33c09e9d81a8e6f5fa1642ff786731d01c9962e5362",
    ),
    "linear-f64-metrics": (
        "linear",
        torch.float64,
        2,
        True,
        "9efc2cc3143af83550939f695cdaa878402c80188ef7b595449e30320beee7ed",
    ),
    "dense-bf16-v1-metrics": (
        "dense",
        torch.bfloat16,
        1,
        True,
        "23df9f70f69e2dc1b2764d86d7cb81a3f848066dae290deb1d0e22934a19521c",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_import_stores_the_canonical_blob(
    client: TestClient, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BLOCK_VALUES", 5)  # tensors read in several blocks
    kind, dtype, format_version, with_metrics, pinned = CASES[case]
    tensors, config = fixed_upload(kind, dtype, format_version)
    form: dict[str, Any] = {"config": json.dumps(config)}
    if with_metrics:
        form["metrics"] = json.dumps(METRICS)
    blob = save_safetensors(tensors)
    r = client.post(URL, files={"file": ("m.safetensors", blob)}, data=form)
    assert r.status_code == 201, r.text
    stored = client.get(f"{URL}/{r.json()['version']}/artifact").content
    sha256 = hashlib.sha256(stored).hexdigest()
    assert r.json()["artifact_sha256"] == sha256
    # what a trained version of these weights stores
    model = load_serving_model(config, tensors)
    canonical = {**config, "format_version": 2}
    assert stored == weights_blob(model.state_dict(), canonical, METRICS if with_metrics else {})
    assert sha256 == pinned


KINDS: dict[str, dict[str, Any]] = {
    "vae": {"kind": "vae"},
    "conv": {"kind": "conv", "n_features": 16, "image_shape": (4, 4, 1), "conv_channels": [2]},
    "conv_vae": {
        "kind": "conv_vae",
        "n_features": 16,
        "image_shape": (4, 4, 1),
        "conv_channels": [2],
    },
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_stores_what_weights_blob_writes(client: TestClient, kind: str) -> None:
    model, config = make_model(**KINDS[kind])
    blob = weights_blob(model.state_dict(), config, {})
    r = client.post(URL, files={"file": ("m.safetensors", blob)}, data={"metrics": "{}"})
    assert r.status_code == 201, r.text
    stored = client.get(f"{URL}/{r.json()['version']}/artifact").content
    assert stored == blob
    r = client.post(
        URL, files={"file": ("m.safetensors", blob)}, data={"metrics": json.dumps(METRICS)}
    )
    assert r.status_code == 201, r.text
    stored = client.get(f"{URL}/{r.json()['version']}/artifact").content
    assert stored == weights_blob(model.state_dict(), config, METRICS)


def test_a_blob_deleted_before_the_row_commits_is_written_again_the_same(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """blob_guard's writer side: the blob is made again, a block at a time."""
    ensure_blob = imports.ensure_blob

    def deleted_first(session: Any, store: Any, sha256: str, data: Any) -> None:
        store.delete(sha256)  # a deleter of an equal blob got there between put and commit
        ensure_blob(session, store, sha256, data)

    monkeypatch.setattr(imports, "ensure_blob", deleted_first)
    tensors, config = fixed_upload("dense", torch.float64, 2)
    blob = save_safetensors(tensors, metadata={"config": json.dumps(config)})
    r = client.post(URL, files={"file": ("m.safetensors", blob)})
    assert r.status_code == 201, r.text
    stored = client.get(f"{URL}/1/artifact")
    assert stored.status_code == 200, stored.text
    assert hashlib.sha256(stored.content).hexdigest() == CASES["dense-f32"][4]


def test_an_upload_without_a_file_descriptor_is_read_from_a_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imports, "BLOCK_VALUES", 3)
    tensors, config = fixed_upload("dense", torch.float16, 2)
    blob = save_safetensors(tensors, metadata={"config": json.dumps(config)})
    with imports.read_safetensors(io.BytesIO(blob)) as weights:
        assert json.loads(weights.metadata["config"]) == config
        assert set(weights.entries) == set(tensors)
        for name, tensor in tensors.items():
            assert weights.dtype(name) == torch.float16
            read = torch.cat(list(weights.blocks(name)))
            assert torch.equal(read, tensor.reshape(-1)), name
    # the idempotency digest of an upload read from its file is the one of its bytes
    assert request_digest("m", io.BytesIO(blob), None, "{}") == request_digest(
        "m", blob, None, "{}"
    )
