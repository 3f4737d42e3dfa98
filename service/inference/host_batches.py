"""Small batches of a GPU-served version on the host CPU, where the host is faster.

A small network's small batch costs a GPU its launches, copies and synchronisation, not
its arithmetic, and the host can be quicker. Measured on an H100 (session 5,
benchmarks/inference_cuda_latency.py), the digits dense AE's one-row encode, numpy in and
numpy out: 45 µs as a CUDA graph replay, 41 µs on the host eagerly (16 µs there as a flat
graph); through the service, a one-client request cost 0.42 ms more than an HTTP echo on
the GPU against 0.11 ms on a CPU. A large network, or a large batch, is the other way round.
So, as Triton lets a model have both a GPU and a CPU instance group, a version placed on a
GPU keeps a host copy of its weights (AESVC_INFERENCE_CUDA_HOST_ROWS > 0, counted in the
cache's budget) and each operation measures, when the version loads, both ways at each
power of two of rows up to the setting: batches up to the largest size the host won, in an
unbroken run from one row, run on the host, on one intra-op thread (see device.py: no
second OpenMP team); the rest run on the GPU. A model for which the GPU wins at one row
never runs on the host.

The host and the GPU compute in float32 with different kernels: answers agree to float
rounding (and TF32 convolutions, where enabled, to about 1e-3), as a batch's size already
changes which GPU kernels run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np

from service.inference.device import BatchFn, Outputs, one_torch_thread

Timings = dict[int, tuple[float, float]]  # rows -> (host µs, device µs), medians


def on_one_thread(fn: BatchFn) -> BatchFn:
    """fn on one intra-op thread of the calling thread (a GPU's inference thread, or the
    event loop): host work opens no OpenMP team (service.inference.device)."""

    def run(x: np.ndarray) -> Outputs:
        with one_torch_thread():
            return fn(x)

    return run


def median_us(fn: BatchFn, x: np.ndarray, repeats: int) -> float:
    for _ in range(2):
        fn(x)  # first calls pay one-off costs (allocator, lazy kernels)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def measure_host_rows(
    on_host: BatchFn,
    on_device: BatchFn,
    *,
    width: int,
    sizes: Sequence[int],
    repeats: int = 15,
) -> tuple[int, Timings]:
    """The largest of `sizes` (ascending) up to which the host was faster at every size,
    0 where the device was faster at the first; and the timings measured. Stops at the
    first size the device wins: a larger batch favours the device more."""
    x = np.random.default_rng(0).standard_normal((max(sizes, default=0), width))
    x = x.astype(np.float32)
    host_rows, timings = 0, {}
    for rows in sizes:
        host_us = median_us(on_host, x[:rows], repeats)
        device_us = median_us(on_device, x[:rows], repeats)
        timings[rows] = (round(host_us, 1), round(device_us, 1))
        if host_us >= device_us:
            break
        host_rows = rows
    return host_rows, timings


def routed(on_host: BatchFn, on_device: BatchFn, host_rows: int) -> Callable[..., Outputs]:
    """Batches of at most `host_rows` rows to `on_host`, the others to `on_device`."""
    if host_rows <= 0:
        return on_device

    def run(x: np.ndarray) -> Outputs:
        return on_host(x) if len(x) <= host_rows else on_device(x)

    return run
