"""Loaded models: an LRU within a memory budget, each version loaded once and warmed before
it serves; AESVC_PRELOAD's versions loaded in the background (/readyz waits on them)."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load as load_safetensors
from sqlalchemy.orm import Session

from service.artifacts import ArtifactStore
from service.errors import ServiceError, ServiceUnavailable
from service.inference.backends.base import Backend
from service.inference.runtime.device import one_torch_thread
from service.metrics import ServiceMetrics
from service.registry.service import resolve_version
from service.registry.tables import ModelVersion
from service.zoo.serving import ServingModel, load_serving_model

if TYPE_CHECKING:
    from service.context import AppContext
    from service.inference.runtime.engine import Plan

log = logging.getLogger(__name__)


class ModelUnloadable(ServiceError):
    status, title, slug = 500, "Model Unloadable", "model-unloadable"


@dataclass(eq=False)  # one object per load: the batchers are keyed by it, not by its key
class LoadedModel:
    name: str
    version: int
    model: ServingModel  # on `device`: the torch backend's, the probe's and the UI's
    metrics: dict[str, Any]
    size_bytes: int
    device: str = "cpu"
    key: str = ""
    # what runs its batches, and why (set by the engine when the version loads)
    backend: Backend | None = field(default=None, repr=False)
    plan: Plan | None = None
    # the model's, as plain fields: read on every request, where nn.Module's lookups cost
    n_features: int = field(init=False)
    code_size: int = field(init=False)
    variational: bool = field(init=False)

    def __post_init__(self) -> None:
        ae = self.model.autoencoder
        self.n_features, self.code_size = ae.n_features, ae.code_size
        self.variational = bool(ae.variational)

    @property
    def footprint_bytes(self) -> int:
        """What the cache's budget counts: the weights and what the backend holds beside."""
        return self.size_bytes + (self.backend.held_bytes if self.backend is not None else 0)


@dataclass(eq=False)
class ModelCache:
    store: ArtifactStore
    _: KW_ONLY
    max_bytes: int = 1 << 30
    devices: tuple[str, ...] = ("cpu",)
    # makes a loaded version's backend and runs it once (the engine's warm_up)
    warmup: Callable[[LoadedModel], None] | None = None
    metrics: ServiceMetrics | None = None
    # told after versions leave (on the thread that evicted them): the engine closes
    # their batchers, which hold their backends
    on_evict: Callable[[], None] | None = None
    _models: OrderedDict[str, LoadedModel] = field(default_factory=OrderedDict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _loading: dict[str, threading.Lock] = field(default_factory=dict, init=False)
    _refs: dict[tuple[str, str], tuple[float, LoadedModel]] = field(
        default_factory=dict, init=False
    )
    # per model: how many times the registry told of a change to it (evict, forget_refs)
    _changes: Counter[str] = field(default_factory=Counter, init=False)

    def resolve(self, session: Session, name: str, ref: str) -> LoadedModel:
        """The version `ref` names (a number or an alias), loaded and warm, and remembered
        for `ref` (lookup_ref) from when it was resolved. An archive, a delete, an unload or
        an alias move tells the cache after its commit (evict, forget_refs); one that lands
        while this resolves and loads makes the answer stale: the load is not kept, and
        `ref` is resolved again in a new transaction (the version loaded is reused where it
        is still the answer)."""
        ready: LoadedModel | None = None
        for _ in range(RESOLVE_TRIES):
            seen, resolved_at = self._changes[name], time.monotonic()
            mv = resolve_version(session=session, name=name, ref=ref)
            try:
                loaded = self.get(name, mv, seen=seen, ready=ready)
            except _Changed as changed:
                ready = changed.loaded
                session.rollback()  # the next read sees what changed
                continue
            with self._lock:
                if self._changes[name] == seen:
                    if loaded.key in self._models:
                        self._refs[(name, cache_ref(ref))] = (resolved_at, loaded)
                    return loaded
            session.rollback()
        raise ServiceUnavailable(
            f"model {name!r} changed while {ref!r} was loaded, {RESOLVE_TRIES} times; retry",
            retry_after_s=1,
        )

    def get(
        self,
        name: str,
        mv: ModelVersion,
        *,
        seen: int | None = None,
        ready: LoadedModel | None = None,
    ) -> LoadedModel:
        """Version `mv` of model `name`, loaded and warm (loaded now if it is not yet, or
        `ready`, loaded before, where it is that version). `seen`: the model's count of
        changes when `mv` was read; a load that a change has made stale meanwhile is not
        kept (_Changed)."""
        key = f"{name}@{mv.version}:{mv.artifact_sha256}"
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:  # one loader per key; the others wait and then find it cached
            with self._lock:
                if key in self._models:
                    return self._models[key]
            if ready is not None and ready.key == key:
                loaded = ready
            else:
                with one_torch_thread():  # a second OpenMP team would slow the device's
                    loaded = self._load(key, name, mv)
                    if self.warmup is not None:
                        self.warmup(loaded)  # before anyone can see it: it serves warm
            with self._lock:
                self._loading.pop(key, None)
                if seen is not None and self._changes[name] != seen:
                    raise _Changed(loaded)
                if key in self._models:  # a waiter on a discarded load's gate loaded it too
                    return self._models[key]
                self._models[key] = loaded
                evicted = self._evict_over_budget(keep=key)
        if evicted and self.on_evict is not None:
            self.on_evict()
        return loaded

    def _evict_over_budget(self, *, keep: str) -> bool:
        before = len(self._models)
        while self.total_bytes() > self.max_bytes and len(self._models) > 1:
            oldest = next(iter(self._models))
            if oldest == keep:
                break
            del self._models[oldest]
        self._refs = {k: v for k, v in self._refs.items() if v[1].key in self._models}
        self._observe()
        return len(self._models) < before

    def total_bytes(self) -> int:
        return sum(m.footprint_bytes for m in self._models.values())

    def _observe(self) -> None:
        if self.metrics is not None:
            self.metrics.loaded_versions.set(len(self._models))
            self.metrics.loaded_bytes.set(self.total_bytes())

    def _place(self) -> str:
        with self._lock:
            counts = Counter(m.device for m in self._models.values())
        return min(self.devices, key=lambda d: counts[d])

    def _load(self, key: str, name: str, mv: ModelVersion) -> LoadedModel:
        blob = self.store.get_bytes(mv.artifact_sha256)  # checked: a corrupt file never serves
        try:
            model = load_serving_model(mv.config, load_safetensors(blob))
        except (ValueError, KeyError, RuntimeError) as exc:
            why = f"version {mv.version} of {name!r} cannot be loaded: {exc}"
            raise ModelUnloadable(why) from exc
        device = self._place()
        model = model.eval().to(torch.device(device))
        size = sum(t.numel() * t.element_size() for t in model.state_dict().values())
        return LoadedModel(name, mv.version, model, mv.serving_metrics(), size, device, key)

    # -- {ref} -> version, reused for a short while so that a hot path skips the database --

    def lookup_ref(self, name: str, ref: str, ttl_s: float) -> LoadedModel | None:
        hit = self._refs.get((name, cache_ref(ref)))
        if hit is None or time.monotonic() - hit[0] > ttl_s:
            return None
        return hit[1]

    def loaded_models(self) -> list[LoadedModel]:
        with self._lock:
            return list(self._models.values())

    def forget_refs(self, name: str) -> None:
        """An alias of `name` moved: resolve its {ref}s afresh (in this process at once;
        other API processes within AESVC_REF_CACHE_S)."""
        with self._lock:
            self._changes[name] += 1
            self._refs = {k: v for k, v in self._refs.items() if k[0] != name}

    def evict(self, name: str, version: int | None = None) -> None:
        prefix = f"{name}@" if version is None else f"{name}@{version}:"
        with self._lock:
            self._changes[name] += 1
            keys = [k for k in self._models if k.startswith(prefix)]
            for key in keys:
                del self._models[key]
            self._refs = {k: v for k, v in self._refs.items() if k[0] != name}
            self._observe()
        if keys and self.on_evict is not None:
            self.on_evict()


def cache_ref(ref: str) -> str:
    """The spelling a {ref} is remembered under: a version number without its leading
    zeros (resolve_version reads "01" and "001" as 1). Kept as sent, every spelling was an
    entry of its own, kept until the model changed: a client could grow the cache by the
    bytes of its request paths, without bound."""
    if ref.isascii() and ref.isdigit():
        return ref.lstrip("0") or "0"
    return ref


RESOLVE_TRIES = 5  # a model changed this often while one of its versions loaded: 503


class _Changed(Exception):
    """The model changed while a version of it loaded: `loaded` is not kept."""

    def __init__(self, loaded: LoadedModel) -> None:
        super().__init__(loaded.key)
        self.loaded = loaded


PRELOAD_RETRY_S = 2.0


class Preloader:
    """Retries until every name@ref is loaded (a model may still be training at start)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.refs = ctx.settings.preload_refs
        self.state: dict[str, str] = {f"{n}@{r}": "pending" for n, r in self.refs}
        self._stopping = threading.Event()

    def start(self) -> None:
        if self.refs:
            threading.Thread(target=self._run, name="aesvc-preload", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()

    @property
    def ready(self) -> bool:
        return all(state == "loaded" for state in self.state.values())

    def check(self) -> dict[str, Any]:
        return {"ok": self.ready, "versions": dict(self.state)}

    def _run(self) -> None:
        while not self._stopping.is_set():
            for name, ref in self.refs:
                label = f"{name}@{ref}"
                if self.state[label] == "loaded":
                    continue
                try:
                    with self.ctx.session_factory() as session:
                        loaded = self.ctx.inference()[1].resolve(session, name, ref)
                    self.state[label] = "loaded"
                    log.info("preloaded %s (version %s, warm)", label, loaded.version)
                except Exception as exc:
                    self.state[label] = f"not loaded: {exc}"
            if self.ready or self._stopping.wait(PRELOAD_RETRY_S):
                return
