"""Models built here, as another trainer would, to import into the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from fastapi.testclient import TestClient
from safetensors.torch import save as save_safetensors

from service.config import Settings
from service.registry.service import weights_blob
from service.zoo.preprocess import fit_preprocessor
from service.zoo.serving import ServingModel, build_serving_model, serving_config
from service.zoo.spec import ModelSpec


def raw_rows(n_rows: int = 20, n_features: int = 6, seed: int = 0) -> np.ndarray:
    """Rows in 'dataset units': offsets and scales far from 0 and 1, so that a graph that
    skipped the preprocessing would give visibly different numbers."""
    rng = np.random.default_rng(seed)
    scales = np.linspace(0.5, 40.0, n_features)
    return (rng.normal(size=(n_rows, n_features)) * scales + 3.0).astype(np.float32)


def make_model(
    *,
    kind: str = "dense",
    n_features: int = 6,
    code_size: int = 2,
    image_shape: tuple[int, int, int] | None = None,
    seed: int = 0,
    **architecture: Any,
) -> tuple[ServingModel, dict[str, Any]]:
    spec = ModelSpec.stored(  # stored: hidden_sizes kept by the kinds that have it
        {
            "architecture": {"kind": kind, "code_size": code_size, "hidden_sizes": [16]}
            | architecture,
            "training": {"epochs": 2},
        }
    )
    torch.manual_seed(seed)
    model = build_serving_model(spec, n_features, image_shape)
    fitted = fit_preprocessor("standardize", raw_rows(50, n_features, seed=seed + 1))
    model.preprocessor.load_state_dict(fitted.state_dict())
    return model.eval(), serving_config(spec, n_features, image_shape)


def model_blob(seed: int = 0, *, embed_config: bool = True, **kwargs: Any) -> tuple[bytes, dict]:
    model, config = make_model(seed=seed, **kwargs)
    if embed_config:
        return weights_blob(model.state_dict(), config, {}), config
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    return save_safetensors(tensors), config


def import_model(client: TestClient, name: str, seed: int = 0, **kwargs: Any) -> dict[str, Any]:
    blob, _ = model_blob(seed, **kwargs)
    response = client.post(
        f"/v1/models/{name}/versions",
        files={"file": ("model.safetensors", blob, "application/octet-stream")},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def blob_path(settings: Settings, sha256: str) -> Path:
    return settings.resolved_artifact_root / "sha256" / sha256[:2] / sha256


def stored_blobs(settings: Settings) -> set[str]:
    root = settings.resolved_artifact_root / "sha256"
    return {p.name for p in root.glob("*/*")} if root.exists() else set()


def flip_byte(path: Path, offset: int = -5) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
