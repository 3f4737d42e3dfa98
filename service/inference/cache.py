"""Loaded models, least recently used first out, each loaded once even when asked at once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import torch
from safetensors.torch import load as load_safetensors

from service.artifacts import ArtifactStore
from service.errors import ServiceError
from service.zoo import ServingModel, load_serving_model


class ModelUnloadable(ServiceError):
    status, title, slug = 500, "Model Unloadable", "model-unloadable"


@dataclass(frozen=True)
class LoadedModel:
    name: str
    version: int
    model: ServingModel
    config: dict[str, Any]
    metrics: dict[str, Any]
    n_features: int
    code_size: int
    variational: bool
    size_bytes: int


class ModelCache:
    def __init__(self, store: ArtifactStore, max_models: int = 16) -> None:
        self.store = store
        self.max_models = max_models
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def get(
        self,
        *,
        name: str,
        version: int,
        sha256: str,
        config: dict[str, Any],
        metrics: dict[str, Any],
    ) -> LoadedModel:
        key = f"{name}@{version}:{sha256}"
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:  # one loader per key; the others wait and then find it cached
            with self._lock:
                if key in self._models:
                    return self._models[key]
            loaded = self._load(name, version, sha256, config, metrics)
            with self._lock:
                self._models[key] = loaded
                while len(self._models) > self.max_models:
                    self._models.popitem(last=False)
                self._loading.pop(key, None)
        return loaded

    def _load(
        self, name: str, version: int, sha256: str, config: dict[str, Any], metrics: dict[str, Any]
    ) -> LoadedModel:
        blob = self.store.get_bytes(sha256)  # sha256-checked: a corrupted file is never served
        try:
            model = load_serving_model(config, load_safetensors(blob))
        except (ValueError, KeyError, RuntimeError) as exc:
            raise ModelUnloadable(f"version {version} of {name!r} cannot be loaded: {exc}") from exc
        model.eval()
        return LoadedModel(
            name=name,
            version=version,
            model=model,
            config=config,
            metrics=metrics,
            n_features=int(config["n_features"]),
            code_size=model.autoencoder.code_size,
            variational=bool(model.autoencoder.variational),
            size_bytes=sum(t.numel() * t.element_size() for t in model.state_dict().values()),
        )

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def evict(self, name: str, version: int | None = None) -> None:
        prefix = f"{name}@" if version is None else f"{name}@{version}:"
        with self._lock:
            for key in [k for k in self._models if k.startswith(prefix)]:
                del self._models[key]


def as_tensor(array: Any) -> torch.Tensor:
    return torch.as_tensor(array, dtype=torch.float32)
