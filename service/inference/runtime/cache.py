"""Loaded models: an LRU within a memory budget, each version loaded once even when asked
at once, placed on a device and warmed up before it serves."""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from safetensors.torch import load as load_safetensors

from service.artifacts import ArtifactStore
from service.errors import ServiceError
from service.inference.device import one_torch_thread
from service.metrics import ServiceMetrics
from service.zoo import ServingModel, load_serving_model


class ModelUnloadable(ServiceError):
    status, title, slug = 500, "Model Unloadable", "model-unloadable"


@dataclass
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
    device: str = "cpu"
    key: str = ""
    # on a GPU, a copy on the host for small batches (service.inference.host_batches), and
    # its size; dropped at warm-up where no operation chose the host
    host_model: ServingModel | None = None
    host_bytes: int = 0
    # device memory its batch functions hold beyond the weights (CUDA graph pools), added
    # as they are made (at warm-up, before the cache counts the version)
    held_bytes: list[int] = field(default_factory=list, compare=False, repr=False)
    # (operation, flat, cuda_graph_rows, cuda_host_rows, numpy_rows) -> its batch function
    # (engine.batch_fn), made once
    batch_fns: dict[tuple[str, bool, int, int, int], Callable[[Any], Any]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def footprint_bytes(self) -> int:
        """What the cache's budget counts: the weights, a host copy, held_bytes."""
        return self.size_bytes + self.host_bytes + sum(self.held_bytes)

    def drop_host_copy(self) -> None:
        """No batch runs on the host: the copy goes (before the cache counts the version)."""
        self.host_model, self.host_bytes = None, 0


class ModelCache:
    def __init__(
        self,
        store: ArtifactStore,
        *,
        max_bytes: int = 1 << 30,
        devices: tuple[str, ...] = ("cpu",),
        warmup: Callable[[LoadedModel], None] | None = None,
        metrics: ServiceMetrics | None = None,
        host_copies: bool = False,
    ) -> None:
        """`host_copies`: a version placed on a GPU gets a copy of its weights on the host
        (AESVC_INFERENCE_CUDA_HOST_ROWS > 0), counted in its footprint, kept where warm-up
        finds an operation that runs small batches on it."""
        self.store = store
        self.host_copies = host_copies
        self.max_bytes = max_bytes
        self.devices = devices
        self.warmup = warmup
        self.metrics = metrics
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self._refs: dict[tuple[str, str], tuple[float, LoadedModel]] = {}

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
            with one_torch_thread():  # a second OpenMP team would slow the device's
                loaded = self._load(key, name, version, sha256, config, metrics)
                if self.warmup is not None:
                    self.warmup(loaded)  # before anyone can see it: it serves warm
            with self._lock:
                self._models[key] = loaded
                self._evict_over_budget(keep=key)
                self._loading.pop(key, None)
        return loaded

    def _evict_over_budget(self, *, keep: str) -> None:
        while self.total_bytes() > self.max_bytes and len(self._models) > 1:
            oldest = next(iter(self._models))
            if oldest == keep:
                break
            del self._models[oldest]
        self._refs = {k: v for k, v in self._refs.items() if v[1].key in self._models}
        self._observe()

    def total_bytes(self) -> int:
        return sum(m.footprint_bytes for m in self._models.values())

    def _observe(self) -> None:
        if self.metrics is not None:
            self.metrics.loaded_versions.set(len(self._models))
            self.metrics.loaded_bytes.set(self.total_bytes())

    def _place(self) -> str:
        """The device holding the fewest loaded versions."""
        counts = {d: 0 for d in self.devices}
        with self._lock:
            for m in self._models.values():
                counts[m.device] = counts.get(m.device, 0) + 1
        return min(self.devices, key=lambda d: counts.get(d, 0))

    def _load(
        self,
        key: str,
        name: str,
        version: int,
        sha256: str,
        config: dict[str, Any],
        metrics: dict[str, Any],
    ) -> LoadedModel:
        blob = self.store.get_bytes(sha256)  # sha256-checked: a corrupted file is never served
        try:
            model = load_serving_model(config, load_safetensors(blob))
        except (ValueError, KeyError, RuntimeError) as exc:
            raise ModelUnloadable(f"version {version} of {name!r} cannot be loaded: {exc}") from exc
        device = self._place()
        model = model.eval()
        host = copy.deepcopy(model) if self.host_copies and device != "cpu" else None
        model = model.to(torch.device(device))  # in place: the copy stays on the host
        return LoadedModel(
            name=name,
            version=version,
            model=model,
            config=config,
            metrics=metrics,
            n_features=int(config["n_features"]),
            code_size=model.autoencoder.code_size,
            variational=bool(model.autoencoder.variational),
            size_bytes=_bytes(model),
            device=device,
            key=key,
            host_model=host,
            host_bytes=_bytes(host) if host is not None else 0,
        )

    # -- {ref} -> version, reused for a short while so that a hot path skips the database --

    def lookup_ref(self, name: str, ref: str, ttl_s: float) -> LoadedModel | None:
        hit = self._refs.get((name, ref))
        if hit is None or time.monotonic() - hit[0] > ttl_s:
            return None
        return hit[1]

    def remember_ref(self, name: str, ref: str, loaded: LoadedModel) -> None:
        with self._lock:
            if loaded.key in self._models:
                self._refs[(name, ref)] = (time.monotonic(), loaded)

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def forget_refs(self, name: str) -> None:
        """An alias of `name` moved: resolve its {ref}s afresh (in this process at once;
        other API processes within AESVC_REF_CACHE_S)."""
        with self._lock:
            self._refs = {k: v for k, v in self._refs.items() if k[0] != name}

    def evict(self, name: str, version: int | None = None) -> None:
        prefix = f"{name}@" if version is None else f"{name}@{version}:"
        with self._lock:
            for key in [k for k in self._models if k.startswith(prefix)]:
                del self._models[key]
            self._refs = {k: v for k, v in self._refs.items() if k[0] != name}
            self._observe()


def _bytes(model: torch.nn.Module) -> int:
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())


def as_tensor(array: Any) -> torch.Tensor:
    return torch.as_tensor(array, dtype=torch.float32)
