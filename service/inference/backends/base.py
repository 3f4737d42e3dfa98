"""The one interface every inference runtime implements: built for one version on one device,
then `run(operation, rows)`; what it cannot load it refuses with `BackendUnavailable`."""

from __future__ import annotations

from typing import ClassVar, Protocol

import numpy as np

Outputs = tuple[np.ndarray, ...]  # each (B, ...)


class BackendUnavailable(RuntimeError):
    """This runtime cannot serve this version here; the message says why."""


class Backend(Protocol):
    name: ClassVar[str]  # "onnxruntime" | "torch": what AESVC_INFERENCE_BACKEND names
    device: str  # "cpu" | "cuda:0" | ...
    held_bytes: int  # memory held beyond the version's torch weights (graphs, sessions)
    cuda_graph_sizes: tuple[int, ...]  # batch sizes replayed from CUDA graphs (torch, GPU)

    def run(self, operation: str, rows: np.ndarray) -> Outputs:
        """The operation's outputs for `rows` (validated, float32, C-contiguous)."""
        ...


def disagreement(got: Outputs, want: Outputs, *, rtol: float = 1e-3, atol: float = 1e-4) -> str:
    """Why `got` is not `want` within tolerance, or "" where it is (NaN matches NaN)."""
    if len(got) != len(want):
        return f"{len(got)} outputs, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if g.shape != w.shape:
            return f"output {i} has shape {g.shape}, expected {w.shape}"
        scale = max(1.0, float(np.nanmax(np.abs(w), initial=0.0)))
        if not np.allclose(g, w, rtol=rtol, atol=atol * scale, equal_nan=True):
            worst = float(np.nanmax(np.abs(g - w)))
            return f"output {i} differs by up to {worst:.3g}"
    return ""
