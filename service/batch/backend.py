"""The runtime a batch job runs its one operation on: what the inference routes would pick
(ONNX Runtime on a CPU, torch on a GPU; torch where ONNX Runtime cannot run the version or
answers differently from torch on a probe batch), but built for that operation alone.

The routes' ONNX Runtime backend exports every operation when a version loads; a batch job
needs one, and each export is a TorchScript trace: seen here, the four took 0.9 to 1.9 s of
a job on a busy 2-core machine, the one 0.1 to 0.4 s.
"""

from __future__ import annotations

import logging
import time
from typing import ClassVar

import numpy as np
import onnxruntime as ort
import torch

from service.inference.backends.base import (
    Backend,
    BackendUnavailable,
    Operation,
    Outputs,
    disagreement,
    probe_rows,
)
from service.inference.backends.onnxruntime import export, session_options
from service.inference.backends.torch import TorchBackend
from service.zoo import ServingModel

log = logging.getLogger(__name__)
_CPU = "CPUExecutionProvider"
PARALLEL_ROWS = 1024  # smaller passes run on one thread (AESVC_INFERENCE_PARALLEL_ROWS's default)


class OneOperationOnnx:
    """ONNX Runtime on the CPU for one operation (the Backend interface).

    With more than one thread it holds two sessions of the same graph, on `threads` intra-op
    threads and on one, and runs each pass on the one that has been the faster lately
    (ThreadChoice): on a quiet machine the team wins; on a shared one, where a descheduled
    thread holds up each barrier of the team, one thread can win by a factor (seen here,
    busy 2 cores: 870k rows/s on one thread, 804k on two; torch: 802k on one, 207k on two).
    Which one runs a pass changes no answer beyond float rounding."""

    name: ClassVar[str] = "onnxruntime"
    device = "cpu"
    cuda_graph_sizes: tuple[int, ...] = ()

    def __init__(
        self, model: ServingModel, op: str, *, threads: int, adaptive: bool = True
    ) -> None:
        """adaptive=False: `threads` threads for every pass of at least PARALLEL_ROWS rows."""
        module, probe = Operation(model, op), probe_rows(model, op)
        with torch.no_grad():
            want = tuple(t.numpy() for t in module(probe))
        counts = sorted({1, max(1, threads)} if adaptive else {max(1, threads)})
        try:
            onnx = export(module, probe, n_outputs=len(want))
            self._sessions = {
                n: ort.InferenceSession(onnx, session_options(n), providers=[_CPU]) for n in counts
            }
        except Exception as exc:  # the exporter and ORT raise many types for what they refuse
            raise BackendUnavailable(f"{op}: {type(exc).__name__}: {exc}") from exc
        self._op, self._input = op, self._sessions[counts[0]].get_inputs()[0].name
        self.held_bytes = len(onnx) * len(counts)
        self.choice = ThreadChoice(counts)
        for n in counts:
            why = disagreement(self._run(n, probe.numpy()), want)
            if why:
                raise BackendUnavailable(f"{op} answers differently from torch on the probe: {why}")

    def run(self, operation: str, rows: np.ndarray) -> Outputs:
        if operation != self._op:
            raise ValueError(f"this runtime was built for {self._op}, not {operation}")
        if len(rows) < PARALLEL_ROWS:  # as the routes: a team costs more than it saves
            return self._run(self.choice.counts[0], rows)
        threads = self.choice.next()
        start = time.perf_counter()
        outputs = self._run(threads, rows)
        self.choice.timed(threads, (time.perf_counter() - start) / len(rows))
        return outputs

    def _run(self, threads: int, rows: np.ndarray) -> Outputs:
        return tuple(self._sessions[threads].run(None, {self._input: rows}))


class ThreadChoice:
    """Which thread count runs the next pass: each is tried twice, then the one with the
    lower recent seconds per row runs, and every EXPLORE-th pass goes to another, so that
    a change of load is seen within a fraction of a second."""

    EXPLORE = 32
    WEIGHT = 0.5  # of the newest pass in a count's moving average

    def __init__(self, counts: list[int]) -> None:
        self.counts = counts
        self.per_row: dict[int, float] = {}
        self.tries = dict.fromkeys(counts, 0)
        self.passes = 0

    def next(self) -> int:
        self.passes += 1
        untried = [n for n in self.counts if self.tries[n] < 2]
        if untried:
            return untried[0]
        best = min(self.counts, key=lambda n: self.per_row[n])
        if len(self.counts) > 1 and self.passes % self.EXPLORE == 0:
            others = [n for n in self.counts if n != best]
            return others[(self.passes // self.EXPLORE) % len(others)]
        return best

    def timed(self, threads: int, seconds_per_row: float) -> None:
        self.tries[threads] += 1
        before = self.per_row.get(threads)
        self.per_row[threads] = (
            seconds_per_row if before is None else before + self.WEIGHT * (seconds_per_row - before)
        )


def load_backend(model: ServingModel, op: str, *, device: str, label: str) -> Backend:
    """`model` is on `device` already. On a CPU: ONNX Runtime on up to torch's thread count
    (the worker's share of the cores), else torch."""
    if device == "cpu":
        try:
            return OneOperationOnnx(model, op, threads=torch.get_num_threads())
        except BackendUnavailable as exc:
            log.warning("%s runs on torch: onnxruntime cannot run it: %s", label, exc)
    return TorchBackend(model, device=device)
