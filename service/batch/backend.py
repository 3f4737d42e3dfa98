"""The runtime a batch job runs its one operation on: what the inference routes would pick
(ONNX Runtime on a CPU, torch on a GPU; torch where ONNX Runtime cannot run the version or
answers differently from torch on a probe batch), but built for that operation alone.

The routes' ONNX Runtime backend exports every operation when a version loads; a batch job
needs one, and each export is a TorchScript trace: seen here, the four took 0.9 to 1.9 s of
a job on a busy 2-core machine, the one 0.1 to 0.4 s.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np
import onnxruntime as ort
import torch

from service.inference.backends.base import (
    Backend,
    BackendUnavailable,
    Operation,
    Outputs,
    probe_rows,
)
from service.inference.backends.onnxruntime import check_probe, export, session_options
from service.inference.backends.torch import TorchBackend
from service.zoo import ServingModel

log = logging.getLogger(__name__)
_CPU = "CPUExecutionProvider"


class OneOperationOnnx:
    """ONNX Runtime on the CPU for one operation (the Backend interface): one session on
    `threads` intra-op threads, run by every lane of the job at once (a session's run is
    thread-safe), each pass on its caller's thread when `threads` is 1."""

    name: ClassVar[str] = "onnxruntime"
    device = "cpu"
    cuda_graph_sizes: tuple[int, ...] = ()

    def __init__(self, model: ServingModel, op: str, *, threads: int = 1) -> None:
        module, probe = Operation(model, op), probe_rows(model, op)
        with torch.no_grad():
            want = tuple(t.numpy() for t in module(probe))
        try:
            onnx = export(module, probe, n_outputs=len(want))
            self._session = ort.InferenceSession(onnx, session_options(threads), providers=[_CPU])
        except Exception as exc:  # the exporter and ORT raise many types for what they refuse
            raise BackendUnavailable(f"{op}: {type(exc).__name__}: {exc}") from exc
        self._op, self._input = op, self._session.get_inputs()[0].name
        self.held_bytes = len(onnx)
        check_probe(op, self._run, probe, want)

    def run(self, operation: str, rows: np.ndarray) -> Outputs:
        if operation != self._op:
            raise ValueError(f"this runtime was built for {self._op}, not {operation}")
        return self._run(rows)

    def _run(self, rows: np.ndarray) -> Outputs:
        return tuple(self._session.run(None, {self._input: rows}))


def load_backend(model: ServingModel, op: str, *, device: str, label: str) -> Backend:
    """`model` is on `device` already. On a CPU: ONNX Runtime, one thread per pass (the job
    runs a lane per core: service.batch.pipeline), else torch."""
    if device == "cpu":
        try:
            return OneOperationOnnx(model, op)
        except BackendUnavailable as exc:
            log.warning("%s runs on torch: onnxruntime cannot run it: %s", label, exc)
    return TorchBackend(model, device=device)
