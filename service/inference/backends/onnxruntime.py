"""The ONNX Runtime backend, the default on a CPU: each operation exported once at load and
checked against torch on a probe batch; a mismatch falls back to torch (docs/inference.md)."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar, cast

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from service.inference.backends.base import (
    OPERATIONS,
    BackendUnavailable,
    Operation,
    Outputs,
    disagreement,
    probe_rows,
)
from service.zoo.serving import ServingModel

OPSET = 18
CPU, CUDA = "CPUExecutionProvider", "CUDAExecutionProvider"


class OnnxRuntimeBackend:
    name: ClassVar[str] = "onnxruntime"
    cuda_graph_sizes: tuple[int, ...] = ()

    def __init__(
        self,
        model: ServingModel,
        *,
        device: str,
        threads: int = 0,
        operations: tuple[str, ...] = OPERATIONS,
    ) -> None:
        """`model` on the CPU; `threads` 0: as many as torch's; only `operations` exported
        (a batch job runs one)."""
        self.device, self.operations = device, operations
        self.threads = threads or torch.get_num_threads()
        self._providers = _providers(device)
        self._options = session_options(self.threads)
        self._sessions: dict[str, tuple[Callable[..., list[Any]], list[str]]] = {}
        onnx = [self._load(op, Operation(model, op), probe_rows(model, op)) for op in operations]
        self.held_bytes = sum(len(b) for b in onnx)  # about the weights the sessions hold

    def _load(self, op: str, module: nn.Module, probe: torch.Tensor) -> bytes:
        with torch.no_grad():
            want = tuple(t.numpy() for t in module(probe))
        try:
            onnx_bytes = export(module, probe, n_outputs=len(want))
            session = ort.InferenceSession(onnx_bytes, self._options, providers=self._providers)
        except Exception as exc:  # the exporter and ORT raise many types for what they refuse
            raise BackendUnavailable(f"{op}: {type(exc).__name__}: {exc}") from exc
        # On a CPU the session's own run, with the output names: InferenceSession.run's
        # checks and its fallback to the CPU are a share of a one-row request's time
        # (docs/performance.md).
        call = session._sess.run if self._providers == [CPU] else session.run
        self._sessions[op] = (call, [output.name for output in session.get_outputs()])
        check_probe(op, partial(self.run, op), probe, want)
        return onnx_bytes

    def run(self, operation: str, rows: np.ndarray) -> Outputs:
        call, outputs = self._sessions[operation]
        return tuple(call(outputs, {"input": rows}, None))


def check_probe(
    op: str, run: Callable[[np.ndarray], Outputs], probe: torch.Tensor, want: Outputs
) -> None:
    """BackendUnavailable unless `run` answers as torch did (`want`) on the probe, and on its
    first rows (another row count than the traced one: the batch axis is dynamic); a run
    that raises counts as one ONNX Runtime cannot do."""
    few = 3
    try:
        got, got_few = run(probe.numpy()), run(probe[:few].numpy())
    except Exception as exc:  # ORT refusing to run what it loaded: torch runs it
        raise BackendUnavailable(f"{op}: running it: {type(exc).__name__}: {exc}") from exc
    why = disagreement(got, want) or disagreement(got_few, tuple(w[:few] for w in want))
    if why:
        raise BackendUnavailable(f"{op} answers differently from torch on the probe: {why}")


def export(module: nn.Module, example: torch.Tensor, *, n_outputs: int) -> bytes:
    """The module as ONNX, its batch dimension dynamic; the TorchScript-based exporter, much
    faster than torch.export's (versions load while they are first requested)."""
    names = [f"output{i}" for i in range(n_outputs)]
    axes = {name: {0: "batch"} for name in ["input", *names]}
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # its deprecation notice, once per export
        torch.onnx.export(
            module,
            (example,),
            cast(Any, buffer),  # a file-like object works; the stubs say only a path
            dynamo=False,
            input_names=["input"],
            output_names=names,
            dynamic_axes=axes,
            opset_version=OPSET,
        )
    return buffer.getvalue()


def _providers(device: str) -> list[str | tuple[str, dict[str, str]]]:
    if device == "cpu":
        return [CPU]
    if CUDA not in ort.get_available_providers():
        raise BackendUnavailable(f"this onnxruntime build has no {CUDA} for {device}")
    index = device.partition(":")[2] or "0"
    return [(CUDA, {"device_id": index})]


def session_options(threads: int) -> ort.SessionOptions:
    """`threads` intra-op threads that sleep when idle (no spinning against the other
    threads of the process: the event loop, a batch job's other lanes and its writer)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: its warnings are about its own fusions
    return options
