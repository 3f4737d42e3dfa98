"""The inference thread of a device: batches from every queue on the device take turns; small
ones run inline on the event loop, and CPU torch threads are set per batch
(docs/inference.md)."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from service.inference.backends.base import Outputs

BatchFn = Callable[[np.ndarray], Outputs]


@dataclass(frozen=True, slots=True)
class Work:
    """A batch handed to the inference thread, and the future its answer resolves."""

    fn: BatchFn
    rows: np.ndarray
    threads: int  # torch's intra-op threads for it (a CPU device)
    future: asyncio.Future[Outputs]


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Torch work outside an inference thread runs on one intra-op thread, so that it opens
    no OpenMP team of its own; the thread's setting is restored after (it is per thread)."""
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
        self._work: queue.SimpleQueue[Work | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=f"aesvc-infer-{name}", daemon=True)
        self._thread.start()
        self._lock: asyncio.Lock | None = None
        self.idle_since = 0.0  # perf_counter() when the last batch ended (set by batchers)

    @property
    def lock(self) -> asyncio.Lock:
        if self._lock is None:  # made on first use, inside the serving event loop
            self._lock = asyncio.Lock()
        return self._lock

    async def run(self, fn: BatchFn, x: np.ndarray) -> Outputs:
        """fn(x) on this device; the caller holds `lock` (one batch at a time)."""
        if len(x) <= self.inline_rows:  # one thread: a team on the loop would be a second one
            return self._call(fn, x, threads=1)
        threads = 1 if len(x) < self.parallel_rows else self._all_threads
        future: asyncio.Future[Outputs] = asyncio.get_running_loop().create_future()
        self._work.put(Work(fn, x, threads, future))
        return await future

    def _call(self, fn: BatchFn, x: np.ndarray, *, threads: int) -> Outputs:
        if self._cpu:  # set on every batch: the setting is partly per thread, partly global
            torch.set_num_threads(threads)
        return fn(x)

    def close(self) -> None:
        self._work.put(None)

    def _serve(self) -> None:
        while (work := self._work.get()) is not None:
            try:
                outputs = self._call(work.fn, work.rows, threads=work.threads)
            except BaseException as exc:  # handed to the batcher; the thread serves on
                # (SystemExit and the like would stop the event loop that awaits them)
                error = exc if isinstance(exc, Exception) else RuntimeError(repr(exc))
                _resolve(work.future, None, error)
            else:
                _resolve(work.future, outputs, None)


def _resolve(
    future: asyncio.Future[Outputs], outputs: Outputs | None, exc: BaseException | None
) -> None:
    def settle() -> None:
        if future.done():  # the awaiting batcher was cancelled (shutdown)
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(outputs)  # type: ignore[arg-type]

    with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits for it
        future.get_loop().call_soon_threadsafe(settle)
