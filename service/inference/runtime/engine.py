"""The torch side of each operation, and the batchers that feed it.

Every operation is a function from a batch of validated rows (numpy, float32) to a tuple
of outputs with one row per input row; it runs on the version's device under
inference_mode, in that device's one inference thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import nn

from service.config import Settings
from service.inference import cuda_graphs, graphs, host_batches, numpy_graphs
from service.inference.batching import Batcher
from service.inference.cache import LoadedModel
from service.inference.device import BatchFn, Device, Outputs
from service.inference.pending import RowBudget
from service.inference.stats import InferenceStats
from service.metrics import ServiceMetrics

log = logging.getLogger(__name__)
OPERATIONS = ("encode", "decode", "reconstruct", "score")


def inference_devices(setting: str) -> tuple[str, ...]:
    if setting == "cpu" or (setting == "auto" and not torch.cuda.is_available()):
        return ("cpu",)
    if not torch.cuda.is_available():
        raise RuntimeError("AESVC_INFERENCE_DEVICE is 'cuda' but torch sees no CUDA device")
    return tuple(f"cuda:{i}" for i in range(torch.cuda.device_count()))


def batch_fn(
    loaded: LoadedModel,
    operation: str,
    *,
    flat: bool = True,
    cuda_graph_rows: int = 0,
    cuda_host_rows: int = 0,
    numpy_rows: int = 0,
) -> BatchFn:
    """numpy rows in, numpy outputs back; made once per loaded version, operation and mode.

    On CPU (and `flat`) the operation runs as its flat graph (service.inference.graphs)
    where it has one: the same outputs without the Python cost of the module calls. On a
    GPU, where that cost hides behind the kernels, it runs eagerly, except that batches of
    at most `cuda_graph_rows` rows replay CUDA graphs (service.inference.cuda_graphs):
    there a small batch's time is its kernel launches. And on a GPU, batches of at most
    `cuda_host_rows` rows may run on the version's host copy, where the host measured
    faster here (service.inference.host_batches). On the CPU (a CPU device, or that host
    copy), batches of at most `numpy_rows` rows of a flat graph run as its numpy form where
    it has one (service.inference.numpy_graphs)."""
    key = (operation, flat, cuda_graph_rows, cuda_host_rows, numpy_rows)
    found = loaded.batch_fns.get(key)
    if found is not None:
        return found
    device = torch.device(loaded.device)
    on_cpu = device.type == "cpu"  # no device copies to dispatch (each costs a few µs)
    width = input_width(loaded, operation)
    op = graphs.operation(loaded.model, operation, variational=loaded.variational)
    run = _flat_or(op, width) if flat and on_cpu else op
    replayed = cuda_graphs.graphed(op, device=device, width=width, max_rows=cuda_graph_rows)
    if replayed is not None:
        loaded.held_bytes.append(replayed.pool_bytes)

    def tensor(x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(x)
        return t if on_cpu else t.to(device)

    def on_device(x: np.ndarray) -> Outputs:  # each output (B, ...): see graphs.operation
        outputs = replayed(x) if replayed is not None else None
        return tuple(map(_array, outputs if outputs is not None else run(tensor(x))))

    fn: Any = on_device
    fn_numpy_rows, host_rows, timings = 0, 0, host_batches.Timings()
    if on_cpu:
        fn, fn_numpy_rows = _with_numpy(run, width, on_device, numpy_rows)
    elif cuda_host_rows > 0 and loaded.host_model is not None:
        fn, host_rows, timings, fn_numpy_rows = _host_where_faster(
            loaded, operation, on_device, flat=flat, max_rows=cuda_host_rows, numpy_rows=numpy_rows
        )
    fn.cuda_graph_sizes = replayed.sizes if replayed is not None else []
    fn.host_rows, fn.host_timings = host_rows, timings  # timings: rows -> (host, device) µs
    fn.numpy_rows = fn_numpy_rows
    if fn_numpy_rows:
        log.info(
            "%s %s: batches of at most %d rows run in numpy", loaded.key, operation, fn_numpy_rows
        )
    loaded.batch_fns[key] = fn
    return fn


def _with_numpy(run: Any, width: int, torch_fn: BatchFn, numpy_rows: int) -> tuple[BatchFn, int]:
    """`torch_fn`, its batches of at most `numpy_rows` rows on the numpy form of `run` (a
    flat graph) where it has one (service.inference.numpy_graphs); and those rows, or 0."""
    small = None
    if numpy_rows > 0 and isinstance(run, graphs.FlatGraph):
        small = numpy_graphs.numpy_graph(run.graph, run.weights, run, width=width)
    if small is None:
        return torch_fn, 0
    return host_batches.routed(small, torch_fn, numpy_rows), numpy_rows


def _host_where_faster(
    loaded: LoadedModel,
    operation: str,
    on_device: BatchFn,
    *,
    flat: bool,
    max_rows: int,
    numpy_rows: int,
) -> tuple[BatchFn, int, host_batches.Timings, int]:
    """A GPU version's batch function that runs its small batches on the host copy where the
    host measured faster (service.inference.host_batches); with the largest such batch, the
    timings, and the largest batch that runs in numpy there."""
    assert loaded.host_model is not None
    width = input_width(loaded, operation)
    host_op = graphs.operation(loaded.host_model, operation, variational=loaded.variational)
    host_run = _flat_or(host_op, width) if flat else host_op

    def host_torch(x: np.ndarray) -> Outputs:
        return tuple(map(_array, host_run(torch.from_numpy(x))))

    host, host_numpy_rows = _with_numpy(host_run, width, host_torch, numpy_rows)
    on_host = host_batches.on_one_thread(host)
    with torch.inference_mode():
        host_rows, timings = host_batches.measure_host_rows(
            on_host, on_device, width=width, sizes=cuda_graphs.bucket_sizes(max_rows)
        )
    log.info(
        "%s %s on %s: batches of at most %d rows run on the host (µs, host vs device: %s)",
        loaded.key,
        operation,
        loaded.device,
        host_rows,
        timings,
    )
    fn = host_batches.routed(on_host, on_device, host_rows)
    return fn, host_rows, timings, min(host_rows, host_numpy_rows)


def _flat_or(op: nn.Module, width: int) -> Callable[[torch.Tensor], tuple[torch.Tensor, ...]]:
    """The operation as its flat graph, or itself where it does not trace."""
    probe = torch.randn(3, width, generator=torch.Generator().manual_seed(0))
    return graphs.flat(op, probe) or op


def _array(t: torch.Tensor) -> np.ndarray:
    if not t.is_cuda and t.dtype == torch.float32:
        return t.numpy()
    return t.float().cpu().numpy()


def cpu_lanes(setting: int) -> int:
    """AESVC_INFERENCE_CPU_LANES, 0 resolved: 2 where torch has 2 threads or more."""
    return setting if setting > 0 else min(2, torch.get_num_threads())


def input_width(loaded: LoadedModel, operation: str) -> int:
    return loaded.code_size if operation == "decode" else loaded.n_features


def warm_up(loaded: LoadedModel, batch_rows: Iterable[int], **mode: Any) -> None:
    """Run every operation once at each batch size, so the first request pays no setup
    (and, on a GPU, capture its CUDA graphs and measure where its small batches run, and
    drop the host copy where none does); `mode`: batch_fn's keywords."""
    host_rows = []
    with torch.inference_mode():
        for operation in OPERATIONS:
            fn = batch_fn(loaded, operation, **mode)
            host_rows.append(fn.host_rows)  # type: ignore[attr-defined]
            for rows in sorted(set(batch_rows)):
                fn(np.zeros((rows, input_width(loaded, operation)), dtype=np.float32))
    if loaded.host_model is not None and not any(host_rows):
        log.info("%s: no operation runs on the host; its host copy is dropped", loaded.key)
        loaded.drop_host_copy()


class InferenceEngine:
    """Devices (one thread each), the shared row budget, one batcher per (version, op)."""

    def __init__(self, settings: Settings, metrics: ServiceMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.device_names = inference_devices(settings.inference_device)
        if settings.inference_numpy_rows > 0:  # on a CPU device or a GPU version's host copy
            numpy_graphs.one_blas_thread()  # small batches only: no pool of its own
        self.devices = {
            name: Device(
                name,
                parallel_rows=settings.inference_parallel_rows,
                inline_rows=settings.inference_inline_rows,
                lanes=cpu_lanes(settings.inference_cpu_lanes),
            )
            for name in self.device_names
        }
        self.budget = RowBudget(settings.max_queue_rows, metrics)
        self._batchers: dict[tuple[str, str], Batcher] = {}
        self.stats = InferenceStats()
        self.live_keys: Callable[[], Iterable[str]] | None = None  # the cache's loaded keys

    @property
    def warmup_batch_rows(self) -> list[int]:
        sizes = {*self.settings.warmup_batch_rows, self.settings.max_batch_rows}
        return sorted(s for s in sizes if 1 <= s <= self.settings.max_batch_rows)

    def warm_up(self, loaded: LoadedModel) -> None:
        warm_up(loaded, self.warmup_batch_rows, **self._batch_fn_mode)

    @property
    def _batch_fn_mode(self) -> dict[str, Any]:
        return {
            "flat": self.settings.inference_flat_graphs,
            "cuda_graph_rows": self.settings.inference_cuda_graph_rows,
            "cuda_host_rows": self.settings.inference_cuda_host_rows,
            "numpy_rows": self.settings.inference_numpy_rows,
        }

    def batcher(self, loaded: LoadedModel, operation: str) -> Batcher:
        key = (loaded.key, operation)
        found = self._batchers.get(key)
        if found is None:
            if self.live_keys is not None:
                self.forget(self.live_keys())
            found = self._batchers[key] = Batcher(
                operation=operation,
                fn=batch_fn(loaded, operation, **self._batch_fn_mode),
                device=self.devices[loaded.device],
                budget=self.budget,
                metrics=self.metrics,
                max_batch_rows=self.settings.max_batch_rows,
                max_wait_s=self.settings.max_wait_ms / 1000,
                timeout_s=self.settings.request_timeout_s,
                stats=self.stats.of(loaded.name, loaded.version),
            )
        return found

    def forget(self, live_keys: Iterable[str]) -> None:
        """Close the idle batchers of versions no longer in the cache."""
        live = set(live_keys)
        for key in [k for k, b in self._batchers.items() if k[0] not in live and b.idle]:
            self._batchers.pop(key).close()

    def close(self) -> None:
        for batcher in self._batchers.values():
            batcher.close()
        self._batchers.clear()
        for device in self.devices.values():
            device.close()
