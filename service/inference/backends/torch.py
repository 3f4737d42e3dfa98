"""The torch backend, the default on a GPU: the operation modules run eagerly, or small
batches on a CUDA device replay CUDA graphs captured per bucket size at load and checked
against the eager operation (docs/inference.md)."""

from __future__ import annotations

import bisect
import logging
import threading
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from service.inference.backends.base import (
    OPERATIONS,
    Operation,
    Outputs,
    Tensors,
    disagreement,
    input_width,
)
from service.zoo.serving import ServingModel

log = logging.getLogger(__name__)
_CAPTURING = threading.Lock()


class TorchBackend:
    name: ClassVar[str] = "torch"

    def __init__(self, model: ServingModel, *, device: str, cuda_graph_rows: int = 0) -> None:
        """`model` is already on `device`."""
        self.device = device
        self._device = torch.device(device)
        self._cpu = self._device.type == "cpu"
        self._ops = {op: Operation(model, op) for op in OPERATIONS}
        self._graphs: dict[str, GraphedOperation] = {}
        for op, module in self._ops.items():
            width = input_width(model, op)
            if graphed := GraphedOperation.of(module, self._device, width, cuda_graph_rows):
                self._graphs[op] = graphed
        self.held_bytes = sum(g.pool_bytes for g in self._graphs.values())
        sizes = {size for g in self._graphs.values() for size in g.sizes}
        self.cuda_graph_sizes = tuple(sorted(sizes))

    def run(self, operation: str, rows: np.ndarray) -> Outputs:
        with torch.inference_mode():
            graphed = self._graphs.get(operation)
            outputs = graphed(rows) if graphed is not None else None
            if outputs is None:
                x = torch.from_numpy(rows)
                outputs = self._ops[operation](x if self._cpu else x.to(self._device))
            return to_numpy(outputs)


def bucket_sizes(max_rows: int) -> list[int]:
    """1, 2, 4, ... up to max_rows, and max_rows itself (empty for 0)."""
    return sorted({*(1 << i for i in range(max_rows.bit_length())), max_rows} - {0})


class GraphedOperation:
    """`op` on batches of up to `max_rows` rows as replays of per-bucket CUDA graphs."""

    def __init__(self, op: nn.Module, *, device: torch.device, width: int, max_rows: int) -> None:
        self.op = op
        self.device = device
        self.sizes = bucket_sizes(max_rows)
        self._graphs: dict[int, tuple[torch.cuda.CUDAGraph, Tensors]] = {}
        reserved = torch.cuda.memory_reserved(device)
        # One capture at a time in the process, as torch.cuda.graph requires (versions load
        # in threadpool threads, two at once where two are asked for cold)
        with _CAPTURING, torch.cuda.device(device), torch.inference_mode():
            self.static_in = torch.zeros(self.sizes[-1], width, device=device)
            pool = torch.cuda.graph_pool_handle()
            probe = torch.randn(self.sizes[-1], width, generator=torch.Generator().manual_seed(0))
            for size in reversed(self.sizes):
                self._graphs[size] = self._capture(size, pool)
                want = op(probe[:size].to(device))
                self.static_in[:size].copy_(probe[:size])
                why = disagreement(to_numpy(self.replay(size)), to_numpy(want))
                if why:
                    raise RuntimeError(f"its graph for {size} rows answered differently: {why}")
        # What the graphs hold on the device: their pool's segments (the allocator reserves
        # 2 MiB and more, far more than a small network's weights) and the static input.
        grown = max(0, torch.cuda.memory_reserved(device) - reserved)
        self.pool_bytes = _pool_bytes(pool, grown) + self.static_in.nbytes

    @classmethod
    def of(
        cls, op: nn.Module, device: torch.device, width: int, max_rows: int
    ) -> GraphedOperation | None:
        """`op` captured for batches of up to `max_rows` rows, or None where it stays eager."""
        if max_rows <= 0 or device.type != "cuda":
            return None
        try:
            return cls(op, device=device, width=width, max_rows=max_rows)
        except Exception as exc:  # capture raises many types for what it cannot record
            log.warning("%s stays eager on %s: %s", type(op).__name__, device, exc)
            return None

    def _capture(self, size: int, pool: Any) -> tuple[torch.cuda.CUDAGraph, Tensors]:
        x = self.static_in[:size]
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):  # lazy initialisation (cuBLAS handles) before capture
            for _ in range(2):
                self.op(x)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        # a stream of this device (torch's default capture stream is made once, on whichever
        # device first captured)
        capture = torch.cuda.Stream(self.device)
        with torch.cuda.graph(graph, pool=pool, stream=capture, capture_error_mode="thread_local"):
            outputs = self.op(x)
        return graph, tuple(outputs)

    def bucket(self, rows: int) -> int | None:
        """The smallest captured size that holds `rows` rows; None past the largest."""
        i = bisect.bisect_left(self.sizes, rows)
        return self.sizes[i] if i < len(self.sizes) else None

    def replay(self, size: int) -> Tensors:
        graph, outputs = self._graphs[size]
        graph.replay()
        return outputs

    def __call__(self, x: np.ndarray) -> Tensors | None:
        """The operation's outputs for x's rows (views into the graph's static outputs, valid
        until the next replay: copy them out first), or None where x is too large."""
        rows = len(x)
        size = self.bucket(rows)
        if size is None or rows == 0:
            return None
        with torch.cuda.device(self.device):
            self.static_in[:rows].copy_(torch.from_numpy(x))
            return tuple(o[:rows] for o in self.replay(size))


def _pool_bytes(pool: Any, fallback: int) -> int:
    """The bytes of the allocator's segments in `pool`, as its memory snapshot names them;
    else `fallback`, the reserved memory's growth over the capture (a rough estimate)."""
    try:
        segments = torch.cuda.memory_snapshot()
        held = sum(
            int(s["total_size"]) for s in segments if tuple(s["segment_pool_id"]) == tuple(pool)
        )
    except Exception:  # the snapshot's format is not a stable API
        log.debug("no memory snapshot; the pool's size is estimated", exc_info=True)
        return fallback
    return held or fallback  # a captured pool holds a segment: none found, the format moved


def to_numpy(tensors: Tensors) -> Outputs:
    """Float32 arrays on the host (no copy of a CPU float32 tensor)."""
    return tuple(t.float().cpu().numpy() for t in tensors)
