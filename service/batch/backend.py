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

from service.inference.backends.base import Backend, BackendUnavailable, Outputs, disagreement
from service.inference.backends.onnxruntime import export
from service.inference.backends.operations import operation, probe_rows
from service.inference.backends.torch import TorchBackend
from service.zoo import ServingModel

log = logging.getLogger(__name__)


class OneOperationOnnx:
    """ONNX Runtime on the CPU for one operation (the Backend interface)."""

    name: ClassVar[str] = "onnxruntime"
    device = "cpu"
    cuda_graph_sizes: tuple[int, ...] = ()

    def __init__(self, model: ServingModel, op: str, *, threads: int) -> None:
        module, probe = operation(model, op), probe_rows(model, op)
        with torch.no_grad():
            want = tuple(t.numpy() for t in module(probe))
        try:
            onnx = export(module, probe, n_outputs=len(want))
            self._session = ort.InferenceSession(
                onnx, session_options(threads), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # the exporter and ORT raise many types for what they refuse
            raise BackendUnavailable(f"{op}: {type(exc).__name__}: {exc}") from exc
        self._op, self._input = op, self._session.get_inputs()[0].name
        self.held_bytes = len(onnx)
        why = disagreement(self.run(op, probe.numpy()), want)
        if why:
            raise BackendUnavailable(f"{op} answers differently from torch on the probe: {why}")

    def run(self, operation: str, rows: np.ndarray) -> Outputs:
        if operation != self._op:
            raise ValueError(f"this runtime was built for {self._op}, not {operation}")
        return tuple(self._session.run(None, {self._input: rows}))


def session_options(threads: int) -> ort.SessionOptions:
    """As the inference routes' sessions: `threads` intra-op threads that sleep when idle
    (no spinning against the worker's reader and writer threads)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


def load_backend(model: ServingModel, op: str, *, device: str, label: str) -> Backend:
    """`model` is on `device` already. On a CPU: ONNX Runtime with torch's thread count
    (the worker's share of the cores), else torch."""
    if device == "cpu":
        try:
            return OneOperationOnnx(model, op, threads=torch.get_num_threads())
        except BackendUnavailable as exc:
            log.warning("%s runs on torch: onnxruntime cannot run it: %s", label, exc)
    return TorchBackend(model, device=device)
