"""The inference thread of a device: batches from every queue on the device take turns; small
ones run inline on the event loop, and CPU torch threads are set per batch
(docs/inference.md)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from service.inference.backends.base import Outputs

BatchFn = Callable[[np.ndarray], Outputs]


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Torch work outside an inference thread runs on one intra-op thread, so that it opens
    no OpenMP team of its own; the setting is restored after. It is partly per thread, partly
    global: threads started inside take 1, and two threads inside at once could restore
    each other's 1 (a batch job's lanes run inside one caller's block)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Device:
    """One inference thread; batches from every queue on the device take turns (FIFO)."""

    def __init__(self, name: str, *, inline_rows: int = 0, parallel_rows: int = 1024) -> None:
        self.name = name
        self.inline_rows = inline_rows
        self.parallel_rows = parallel_rows
        self._cpu = name == "cpu"
        self._all_threads = torch.get_num_threads()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"aesvc-infer-{name}")
        self.lock = asyncio.Lock()  # held by the batcher whose batch is on the device
        self.idle_since = 0.0  # perf_counter() when the last batch ended (set by batchers)

    async def run(self, fn: BatchFn, x: np.ndarray) -> tuple[Outputs, float]:
        """fn(x) on this device, and the seconds it took there; the caller holds `lock` (one
        batch at a time)."""
        if len(x) <= self.inline_rows:  # a team on the loop would be a second one
            return self._call(fn, x, 1)
        threads = 1 if len(x) < self.parallel_rows else self._all_threads
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._call, fn, x, threads)

    def _call(self, fn: BatchFn, x: np.ndarray, threads: int) -> tuple[Outputs, float]:
        if self._cpu:  # set on every batch: the setting is partly per thread, partly global
            torch.set_num_threads(threads)
        start = time.perf_counter()
        return fn(x), time.perf_counter() - start

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)
