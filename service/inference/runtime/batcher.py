"""Batched inference: one queue per (model version, operation) that counts rows, runs at once
when the device is idle and retries a failed batch request by request (docs/inference.md)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from service.errors import ServiceUnavailable
from service.inference.backends.base import Outputs
from service.inference.runtime.device import BatchFn, Device
from service.inference.runtime.pending import (
    BatchMismatch,
    GoneWatch,
    Pending,
    RowBudget,
    Slice,
    Waiting,
)
from service.inference.runtime.stats import VersionStats
from service.metrics import ServiceMetrics

log = logging.getLogger(__name__)
# A device idle this long is quiet: a lone small request runs at once (the requests of one
# burst arrive within microseconds; a client's next one comes a round trip later).
QUIET_S = 0.0002


@dataclass(eq=False, kw_only=True)
class Batcher:
    operation: str
    fn: BatchFn
    device: Device
    budget: RowBudget
    metrics: ServiceMetrics
    max_batch_rows: int
    max_wait_s: float
    timeout_s: float | None = None  # read by each sweep of the waiting callers
    stats: VersionStats = field(default_factory=VersionStats)  # the version's, all operations'

    def __post_init__(self) -> None:
        self._items: deque[Pending] = deque()
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running = False  # a batch is on the device
        self._claimed = False  # a request is about to run alone on the idle device
        self._waiting = Waiting(lambda: self.timeout_s)
        self.result = self._waiting.result  # the item's outputs (gone: the client left)
        labelled, operation = self.metrics.labelled, self.operation
        self._queue_seconds = labelled(self.metrics.queue_seconds, operation)
        self._compute_seconds = labelled(self.metrics.compute_seconds, operation)
        self._batch_rows = labelled(self.metrics.batch_rows, operation)

    @property
    def idle(self) -> bool:
        """Nothing queued, running or awaited: a batch closed on max_wait and waiting for
        the device has left the queue, but its callers still wait here."""
        return not (self._items or self._running or self._claimed or self._waiting)

    def put(self, rows: np.ndarray) -> Pending:
        self.budget.take(len(rows))  # or QueueFull
        loop = asyncio.get_running_loop()
        item = Pending(rows, loop.create_future(), time.perf_counter(), self.budget)
        self._items.append(item)
        self._arrived.set()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name=f"batcher-{self.operation}")
        return item

    async def __call__(
        self, rows: np.ndarray, *, gone: GoneWatch | None = None, counted: bool = True
    ) -> Outputs:
        """The rows' outputs. `counted=False`: a request's second call on the version's
        batchers (interpolate's encode), not counted as a second request."""
        if not counted:
            return await self._answer(rows, gone)
        start = time.perf_counter()
        try:
            outputs = await self._answer(rows, gone)
        except BaseException:
            self.stats.failed(time.perf_counter() - start)
            raise
        self.stats.answered(len(rows), time.perf_counter() - start)
        return outputs

    async def _answer(self, rows: np.ndarray, gone: GoneWatch | None) -> Outputs:
        if self._may_run_now(rows):
            # Idle and quiet: run at once in this task. Just freed: let the requests of this
            # burst queue first (one turn of the loop), then run at once if none did.
            if time.perf_counter() - self.device.idle_since >= QUIET_S:
                return await self._run_now(rows)
            self._claimed = True
            try:
                await asyncio.sleep(0)
            finally:
                self._claimed = False
            if self._may_run_now(rows):
                return await self._run_now(rows)
        return await self.result(self.put(rows), gone)

    def _may_run_now(self, rows: np.ndarray) -> bool:
        return (
            not self._claimed
            and not self._items
            and len(rows) <= self.device.inline_rows
            and not self.device.lock.locked()
        )

    async def _run_now(self, rows: np.ndarray) -> Outputs:
        """One request alone on the idle device, in the caller's task (no queue, no hop)."""
        # Running from here on, not idle: the acquire suspends where another batcher's wait
        # for the device was woken and has not taken it yet (the lock is free, not its turn)
        self._running = True
        try:
            await self.device.lock.acquire()
        except BaseException:
            self._running = False
            raise
        try:
            self._queue_seconds.observe(0.0)
            self.stats.queue.add(0.0)
            return await self._on_device(rows)  # inline: no suspension either
        finally:
            self._release()

    def _release(self) -> None:
        self._running = False
        self.device.idle_since = time.perf_counter()
        self.device.lock.release()

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._waiting.close()
        # the queued ones, then those in a batch closed but not yet run
        for item in [*self._items, *self._waiting]:
            item.fail(ServiceUnavailable("the service is shutting down"))
        self._items.clear()

    # -- the background loop ------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._arrived.wait()
            while self._items and self._items[0].gone():
                self._items.popleft()
            if not self._items:
                self._arrived.clear()
                continue
            frozen = await self._acquire_device()
            batch: list[Slice] = []
            try:
                batch = frozen if frozen is not None else self._take()
                if batch:
                    self._running = True
                    await self._execute(batch)
            except Exception:  # a bug here must not stop the queue
                log.exception("batcher %s failed", self.operation)
                for part in batch:
                    part.item.fail(RuntimeError("the batcher failed; see the log"))
            finally:
                self._release()

    async def _acquire_device(self) -> list[Slice] | None:
        """Wait for the device. If that outlasts max_wait, the batch closes (returned) first."""
        lock = self.device.lock
        if not lock.locked():
            await lock.acquire()  # idle: no suspension, the request runs at once
            return None
        acquiring = asyncio.ensure_future(lock.acquire())
        try:
            remaining = self._items[0].enqueued_at + self.max_wait_s - time.perf_counter()
            if remaining > 0:
                await asyncio.wait({acquiring}, timeout=remaining)
            frozen = None if acquiring.done() else self._take()
            await acquiring
        except BaseException:  # closed meanwhile: the device is not taken, nor kept
            if acquiring.done() and not acquiring.cancelled() and acquiring.exception() is None:
                lock.release()
            acquiring.cancel()
            raise
        return frozen

    def _take(self) -> list[Slice]:
        batch: list[Slice] = []
        rows = 0
        now = time.perf_counter()
        while self._items and rows < self.max_batch_rows:
            item = self._items[0]
            if item.gone():
                self._items.popleft()
                continue
            start = item.taken
            stop = min(item.n, start + self.max_batch_rows - rows)
            if start == 0:
                self._queue_seconds.observe(now - item.enqueued_at)
                self.stats.queue.add(now - item.enqueued_at)
            item.taken = stop
            self.budget.release(stop - start)
            batch.append(Slice(item, start, stop))
            rows += stop - start
            if stop == item.n:
                self._items.popleft()
        return batch

    async def _execute(self, batch: list[Slice]) -> None:
        try:  # the join too: rows that do not join fail alone, not the batcher's loop
            x = batch[0].rows if len(batch) == 1 else np.concatenate([p.rows for p in batch])
            outputs = await self._on_device(x)
        except Exception as exc:
            if len(batch) == 1:
                batch[0].item.fail(exc)
                return
            await self._retry_alone(batch)
            return
        offset = 0
        for part in batch:
            n = part.stop - part.start
            part.item.deliver(part.start, tuple(out[offset : offset + n] for out in outputs))
            offset += n

    async def _retry_alone(self, batch: list[Slice]) -> None:
        for part in batch:
            if part.item.future.done():
                continue
            try:
                outputs = await self._on_device(part.rows)
            except Exception as exc:
                part.item.fail(exc)
            else:
                part.item.deliver(part.start, outputs)

    async def _on_device(self, x: np.ndarray) -> Outputs:
        outputs, compute_s = await self.device.run(self.fn, x)
        self._compute_seconds.observe(compute_s)
        self._batch_rows.observe(len(x))
        self.stats.executed(len(x), compute_s)
        wrong = [len(out) for out in outputs if len(out) != len(x)]
        if wrong:
            raise BatchMismatch(f"{self.operation}: {len(x)} rows in, {wrong[0]} rows out")
        return outputs
