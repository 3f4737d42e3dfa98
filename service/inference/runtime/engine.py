"""The engine: a device per device name, the row budget, a backend per loaded version (its
plan: which backend, on which device, and why; chosen by AESVC_INFERENCE_BACKEND at load, never
by a timing race) and a batcher per loaded version and operation."""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from service.config import Settings
from service.inference.backends.base import OPERATIONS, Backend, BackendUnavailable, input_width
from service.inference.backends.onnxruntime import OnnxRuntimeBackend
from service.inference.backends.torch import TorchBackend
from service.inference.runtime.batcher import Batcher
from service.inference.runtime.cache import LoadedModel
from service.inference.runtime.device import Device
from service.inference.runtime.pending import RowBudget
from service.inference.runtime.stats import VersionStats
from service.metrics import ServiceMetrics
from service.zoo.serving import ServingModel

log = logging.getLogger(__name__)
FORGET_AGAIN_S = 1.0  # how soon an unloaded version's busy batchers are looked at again


@dataclass(frozen=True)
class Plan:
    backend: str  # the runtime that serves: "onnxruntime" | "torch"
    device: str
    asked: str  # the runtime the configuration asked for on this device
    fallback: str = ""  # why `backend` is not `asked`; "" where it is
    cuda_graph_sizes: tuple[int, ...] = ()  # batch sizes replayed from CUDA graphs


BackendSetting = Literal["auto", "onnxruntime", "torch"]


@dataclass(frozen=True)
class BackendOptions:
    setting: BackendSetting = "auto"
    cuda_graph_rows: int = 0
    # ONNX Runtime's intra-op threads: torch's count where the engine is made (versions load
    # under one_torch_thread, where torch answers 1)
    threads: int = field(default_factory=torch.get_num_threads)
    operations: tuple[str, ...] = OPERATIONS  # what ONNX Runtime exports (a batch job: one)


def load_backend(
    model: ServingModel, *, label: str, device: str, options: BackendOptions
) -> tuple[Backend, Plan]:
    """The version's backend on `device` (`model` already there), and its plan."""
    asked = options.setting
    if asked == "auto":
        asked = "onnxruntime" if device == "cpu" else "torch"
    fallback = ""
    if asked == "onnxruntime":
        try:
            on_cpu = model if device == "cpu" else copy.deepcopy(model).cpu()  # to export
            backend: Backend = OnnxRuntimeBackend(
                on_cpu, device=device, threads=options.threads, operations=options.operations
            )
            return backend, Plan(backend.name, device, asked)
        except BackendUnavailable as exc:
            fallback = f"onnxruntime cannot run it: {exc}"
            log.warning("%s runs on torch on %s: %s", label, device, fallback)
    backend = TorchBackend(model, device=device, cuda_graph_rows=options.cuda_graph_rows)
    return backend, Plan(backend.name, device, asked, fallback, backend.cuda_graph_sizes)


def inference_devices(setting: str) -> tuple[str, ...]:
    if setting == "cpu" or (setting == "auto" and not torch.cuda.is_available()):
        return ("cpu",)
    if not torch.cuda.is_available():
        raise RuntimeError("AESVC_INFERENCE_DEVICE is 'cuda' but torch sees no CUDA device")
    return tuple(f"cuda:{i}" for i in range(torch.cuda.device_count()))


def prepare(loaded: LoadedModel, options: BackendOptions, batch_rows: Iterable[int]) -> None:
    """Give the version its backend and plan, then run every operation once at each batch
    size, so that the first request pays no setup."""
    label = f"{loaded.name}@{loaded.version}"
    loaded.backend, loaded.plan = load_backend(
        loaded.model, label=label, device=loaded.device, options=options
    )
    log.info("%s: %s", label, loaded.plan)
    for operation in OPERATIONS:
        for rows in sorted(set(batch_rows)):
            zeros = np.zeros((rows, input_width(loaded.model, operation)), dtype=np.float32)
            loaded.backend.run(operation, zeros)


class InferenceEngine:
    def __init__(self, settings: Settings, metrics: ServiceMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        inline, parallel = settings.inference_inline_rows, settings.inference_parallel_rows
        self.devices = {
            name: Device(name, inline_rows=inline, parallel_rows=parallel)
            for name in inference_devices(settings.inference_device)
        }
        self.options = BackendOptions(
            setting=settings.inference_backend, cuda_graph_rows=settings.inference_cuda_graph_rows
        )
        self.budget = RowBudget(settings.max_queue_rows, metrics)
        # keyed by the loaded object: a version unloaded and loaded again is a new object
        # with new batchers, and the old ones (holding the old backend) are closed
        self._batchers: dict[tuple[LoadedModel, str], Batcher] = {}
        # every version's statistics in this process, kept across unloads and reloads
        self.stats: defaultdict[tuple[str, int], VersionStats] = defaultdict(VersionStats)
        self.live: Callable[[], list[LoadedModel]] | None = None  # the cache's loaded versions
        self._loop: asyncio.AbstractEventLoop | None = None
        self._forget_again: asyncio.TimerHandle | None = None

    def warm_up(self, loaded: LoadedModel) -> None:
        most = self.settings.max_batch_rows
        sizes = {*self.settings.warmup_batch_rows, most}
        prepare(loaded, self.options, [s for s in sizes if 1 <= s <= most])

    def batcher(self, loaded: LoadedModel, operation: str) -> Batcher:
        found = self._batchers.get((loaded, operation))
        if found is None:
            self._loop = asyncio.get_running_loop()
            self.forget()
            if loaded.backend is None:  # a version made outside the cache (tests)
                prepare(loaded, self.options, [])
            assert loaded.backend is not None
            found = self._batchers[(loaded, operation)] = Batcher(
                operation=operation,
                fn=functools.partial(loaded.backend.run, operation),
                device=self.devices[loaded.device],
                budget=self.budget,
                metrics=self.metrics,
                max_batch_rows=self.settings.max_batch_rows,
                max_wait_s=self.settings.max_wait_ms / 1000,
                timeout_s=self.settings.request_timeout_s,
                stats=self.stats[(loaded.name, loaded.version)],
            )
        return found

    def forget(self) -> None:
        """Close the idle batchers of versions no longer in the cache, so that nothing holds
        an unloaded version's backend; while one of them is busy, look again FORGET_AGAIN_S
        later (its version gets no new request to make a later call)."""
        if self._forget_again is not None:  # one look pending at most
            self._forget_again.cancel()
            self._forget_again = None
        if self.live is None:
            return
        live = set(self.live())
        busy = False
        for key, batcher in list(self._batchers.items()):
            if key[0] in live:
                continue
            if batcher.idle:
                self._batchers.pop(key).close()
            else:
                busy = True
        if busy and self._loop is not None:
            self._forget_again = self._loop.call_later(FORGET_AGAIN_S, self.forget)

    def forget_soon(self) -> None:
        """`forget` on the event loop, from any thread (the cache calls it after evicting)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.forget)

    def close(self) -> None:
        if self._forget_again is not None:
            self._forget_again.cancel()
        for batcher in self._batchers.values():
            batcher.close()
        self._batchers.clear()
        for device in self.devices.values():
            device.close()
