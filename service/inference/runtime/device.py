"""The inference threads of a device: batches from every queue on the device take turns.

A plain thread fed by a SimpleQueue, answering through `call_soon_threadsafe`: the same
hand-off as `run_in_executor` with a third of its bookkeeping per batch. Whatever a batch
raises goes back to the awaiting batcher; the thread itself never dies of it (a dead thread
would hold its device's lock for ever).

On a CPU device:
- a batch under `parallel_rows` rows runs on one intra-op thread: torch's other threads
  would take as long in wall time and spin a second core meanwhile (measured: a 32-row
  batch of the digits AE costs 46 µs on one thread, 46 µs wall and 91 µs CPU on two), and
  that core serves HTTP;
- a larger batch runs on `lanes` threads at once, one slice of its rows each, torch's
  threads shared among them (AESVC_INFERENCE_CPU_LANES; by default 2 lanes where torch has
  2 threads or more). With one lane it runs on one thread with all of torch's threads, an
  OpenMP team: when the event loop or the client takes one of the team's cores for a
  moment, the other threads wait for it at the next barrier, and after the batch its
  worker spins on for milliseconds on a core HTTP needs. Lanes share no barrier. Measured
  on 2 cores, 8192-row .npy encodes against in-process torch, three rounds side by side:
  0.67, 0.53 and 0.50 with 2 lanes, 0.61, 0.50 and 0.45 with one (one client); alone, in
  a loop, two 4096-row slices on two 1-thread lanes took as long as the two batches on one
  2-thread team (2.9 ms);
- a batch of at most `inline_rows` rows runs in the caller's thread (the event loop), on one
  intra-op thread whatever its size (see below),
  still one batch at a time under the device's lock: handing it to the inference thread
  and back costs more than running it (measured in-process, a one-row encode: 290 µs of
  wall time through the thread, 200 µs inline), and a batch that small blocks the loop for
  tens of µs. Larger batches go to the inference thread, where the event loop keeps taking
  requests (and merging them into the next batch) meanwhile.

Torch runs multi-threaded in this process only on a CPU device's inference threads: any other
thread that does torch work (loading and warming a version, the UI's plots) does it under
`one_torch_thread()`. With OpenMP (libgomp, as torch's CPU builds use) every thread that
opens a parallel region gets its own team of threads; once the process holds more OpenMP
threads than there are cores, libgomp "throttles" the spin-wait of every team to 100 spins,
so the inference thread's workers sleep on a futex at each barrier instead of spinning.
Measured on 2 cores, a 4096-row encode of the digits AE: 1.42 ms and no context switch per
forward with one team, 1.8-2.0 ms and 14 voluntary context switches per forward after a
warm-up in another thread had made a second team (it stays as long as that thread lives).

On a GPU the second holds too, more so: on an H100 the hand-off to the thread and back cost
150 µs (benchmarks/inference_cuda_latency.py), a one-row batch replayed from its CUDA graph
47 µs, numpy in and out.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import threading
from collections.abc import Callable, Iterator

import numpy as np
import torch

Outputs = tuple[np.ndarray, ...]  # each (rows, ...)
BatchFn = Callable[[np.ndarray], Outputs]


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Torch work outside an inference thread runs on one intra-op thread here, so that it
    opens no OpenMP team of its own (see the module's docstring); the thread's setting is
    restored after (it is per thread: another thread's torch is untouched)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Device:
    """Its inference threads ("lanes": one, or on a CPU several that split a large batch).
    Batches from every queue on the device take turns (FIFO)."""

    def __init__(
        self, name: str, *, parallel_rows: int = 1024, inline_rows: int = 0, lanes: int = 1
    ) -> None:
        self.name = name
        self.parallel_rows = parallel_rows
        self._cpu = name == "cpu"
        self.inline_rows = inline_rows
        self._all_threads = torch.get_num_threads()
        self.lanes = max(1, lanes) if self._cpu else 1
        self._lane_threads = max(1, self._all_threads // self.lanes)
        self._work: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._serve, name=f"aesvc-infer-{name}", daemon=True)
            for _ in range(self.lanes)
        ]
        for thread in self._threads:
            thread.start()
        self._lock: asyncio.Lock | None = None
        self.idle_since = 0.0  # perf_counter() when the last batch ended (set by batchers)

    @property
    def lock(self) -> asyncio.Lock:
        if self._lock is None:  # made on first use, inside the serving event loop
            self._lock = asyncio.Lock()
        return self._lock

    async def run(self, fn: BatchFn, x: np.ndarray) -> Outputs:
        """fn(x) on this device; the caller holds `lock` (one batch at a time). A batch of
        at least `parallel_rows` rows on a CPU device with several lanes runs as one slice of
        rows per lane, at once, joined back in row order."""
        if len(x) <= self.inline_rows:  # one thread: a team on the loop would be a second one
            return self._call(fn, x, threads=1)
        loop = asyncio.get_running_loop()
        if len(x) < self.parallel_rows:
            return await self._submit(loop, fn, x, threads=1)
        if self.lanes == 1:
            return await self._submit(loop, fn, x, threads=self._all_threads)
        parts = min(self.lanes, len(x))  # no empty slice
        bounds = [len(x) * i // parts for i in range(parts + 1)]
        slices = [
            self._submit(loop, fn, x[a:b], threads=self._lane_threads)
            for a, b in itertools.pairwise(bounds)
        ]
        done = await asyncio.gather(*slices, return_exceptions=True)
        for part in done:  # every slice has ended: none is left running on a lane
            if isinstance(part, BaseException):
                raise part
        outputs: list[Outputs] = done  # type: ignore[assignment]
        return tuple(np.concatenate(columns) for columns in zip(*outputs, strict=True))

    def _submit(
        self, loop: asyncio.AbstractEventLoop, fn: BatchFn, x: np.ndarray, *, threads: int
    ) -> asyncio.Future[Outputs]:
        future: asyncio.Future[Outputs] = loop.create_future()
        self._work.put((fn, x, threads, loop, future))
        return future

    def close(self) -> None:
        for _ in self._threads:
            self._work.put(None)

    def _call(self, fn: BatchFn, x: np.ndarray, *, threads: int) -> Outputs:
        if self._cpu:  # set on every batch: the setting is partly per thread, partly global
            torch.set_num_threads(threads)
        with torch.inference_mode():
            return fn(x)

    def _serve(self) -> None:
        while (work := self._work.get()) is not None:
            fn, x, threads, loop, future = work
            try:
                outputs = self._call(fn, x, threads=threads)
            except BaseException as exc:  # handed to the batcher; the thread serves on
                # (SystemExit and the like would stop the event loop that awaits them)
                error = exc if isinstance(exc, Exception) else RuntimeError(repr(exc))
                _resolve(loop, future, None, error)
            else:
                _resolve(loop, future, outputs, None)


_Work = tuple[BatchFn, np.ndarray, int, asyncio.AbstractEventLoop, "asyncio.Future[Outputs]"]


def _resolve(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Outputs],
    outputs: Outputs | None,
    exc: BaseException | None,
) -> None:
    def settle() -> None:
        if future.done():  # the awaiting batcher was cancelled (shutdown)
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(outputs)  # type: ignore[arg-type]

    with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits for it
        loop.call_soon_threadsafe(settle)
