"""A queued request (carrying its own future), the row budget of every queue together, and
the callers waiting on a batcher: one timer sweep per batcher enforces the request timeout
(504) and watches clients that left (499), nothing per request (docs/inference.md)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from service.errors import ServiceError, ServiceUnavailable
from service.inference.backends.base import Outputs
from service.metrics import ServiceMetrics

log = logging.getLogger(__name__)
GoneWatch = Callable[[], Awaitable[Any]]  # a fresh awaitable that resolves if the client leaves


class QueueFull(ServiceUnavailable):
    pass


class ClientGone(ServiceError):
    """Nobody reads this answer; 499 (nginx's "client closed request") shows in the metrics."""

    status, title, slug = 499, "Client Closed Request", "client-gone"


class InferenceTimeout(ServiceError):
    status, title, slug = 504, "Gateway Timeout", "timeout"


class BatchMismatch(RuntimeError):
    pass


class RowBudget:
    """Rows waiting in every queue together: what bounds the memory that queues hold (the
    queue-depth gauge reads `used` when scraped)."""

    def __init__(self, max_rows: int, metrics: ServiceMetrics) -> None:
        self.max_rows = max_rows
        self.used = 0
        metrics.queue_depth_rows.set_function(lambda: self.used)

    def take(self, rows: int) -> None:
        """Reserve `rows`, or refuse them all with 503 + Retry-After."""
        if self.used + rows > self.max_rows:
            raise QueueFull(
                f"the inference queues hold {self.used} of {self.max_rows} rows; "
                f"{rows} more do not fit, retry shortly",
                retry_after_s=1,
            )
        self.used += rows

    def release(self, rows: int) -> None:
        self.used -= rows


@dataclass(eq=False)
class Pending:
    rows: np.ndarray  # (n, ...) validated
    future: asyncio.Future[Outputs]
    enqueued_at: float
    budget: RowBudget  # holds the rows not yet handed to a batch
    taken: int = 0  # rows handed to batches so far
    done_rows: int = 0
    parts: list[tuple[int, Outputs]] = field(default_factory=list)  # (first row, outputs)
    cancelled: bool = False
    failure: ServiceError | None = None  # why the wait was abandoned (timeout, client gone)

    @property
    def n(self) -> int:
        return len(self.rows)

    def deliver(self, start: int, part: Outputs) -> None:
        """Rows `start`.. of the outputs; the last part resolves the future."""
        if self.future.done():
            return
        self.parts.append((start, part))
        self.done_rows += len(part[0])
        if self.done_rows == self.n:
            if len(self.parts) == 1:
                self.future.set_result(part)
            else:  # split across batches, joined in row order
                parts = [p for _, p in sorted(self.parts, key=lambda sp: sp[0])]
                joined = tuple(np.concatenate(cols) for cols in zip(*parts, strict=True))
                self.future.set_result(joined)

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)
            self.future.exception()  # retrieved: no "never retrieved" noise if nobody waits
        self.drop()

    def gone(self) -> bool:
        """Dropped, or its future cancelled by someone: its queued rows will not run."""
        if not self.cancelled and self.future.cancelled():
            self.drop()
        return self.cancelled

    def drop(self) -> None:
        """Whatever is still queued of the request leaves the queue (and the row budget)."""
        if not self.cancelled:
            self.cancelled = True
            self.budget.release(self.n - self.taken)
            self.taken = self.n
        if not self.future.done():
            self.future.cancel()


@dataclass(frozen=True, slots=True)
class Slice:
    """Rows `start` to `stop` (one past the last) of a queued request, in one batch."""

    item: Pending
    start: int
    stop: int

    @property
    def rows(self) -> np.ndarray:
        return self.item.rows[self.start : self.stop]


GONE_WATCH_AFTER_S = 0.02  # a request still waiting by then starts watching its client
SWEEP_S = 0.02  # how often waiting requests are checked for their timeout and watch


class Waiting:
    def __init__(self, timeout_s: Callable[[], float | None]) -> None:
        self.timeout_s = timeout_s  # the batcher's, read at each sweep
        self._waiting: dict[Pending, GoneWatch | None] = {}  # oldest first
        self._watches: dict[Pending, asyncio.Task[None]] = {}
        self._sweeper: asyncio.TimerHandle | None = None

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def __iter__(self) -> Iterator[Pending]:
        return iter(list(self._waiting))

    async def result(self, item: Pending, gone: GoneWatch | None = None) -> Outputs:
        """The item's outputs; `gone()` resolving first (the client left) drops the item."""
        self._waiting[item] = gone
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().call_later(SWEEP_S, self._sweep)
        try:
            return await item.future
        except asyncio.CancelledError:
            task = asyncio.current_task()
            ours = task is not None and task.cancelling() > 0  # our caller cancelled us
            if item.failure is not None and not ours:  # the sweep or the watch ended the wait
                raise item.failure from None
            raise
        finally:
            del self._waiting[item]
            watch = self._watches.pop(item, None)
            if watch is not None:
                watch.cancel()
            if not item.future.done() or item.future.cancelled():  # our caller was cancelled
                item.drop()

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None

    def _sweep(self) -> None:
        self._sweeper = None
        now = time.perf_counter()
        for item, gone in list(self._waiting.items()):
            if item.future.done():
                continue
            waited = now - item.enqueued_at
            timeout_s = self.timeout_s()
            if timeout_s is not None and waited >= timeout_s:
                self._time_out(item)
            elif gone is not None and waited >= GONE_WATCH_AFTER_S and item not in self._watches:
                self._watches[item] = asyncio.ensure_future(self._watch(item, gone))
        if self._waiting:
            self._sweeper = asyncio.get_running_loop().call_later(SWEEP_S, self._sweep)

    def _time_out(self, item: Pending) -> None:
        limit = f"the {self.timeout_s():g} s request timeout (AESVC_REQUEST_TIMEOUT_S)"
        self._abandon(item, InferenceTimeout(f"no answer within {limit}; the rows were dropped"))

    async def _watch(self, item: Pending, gone: GoneWatch) -> None:
        try:
            await gone()
        except Exception:  # the connection cannot tell us more: take it as gone
            log.debug("client watch failed", exc_info=True)
        self._abandon(item, ClientGone("the client went away before its rows ran"))

    def _abandon(self, item: Pending, failure: ServiceError) -> None:
        """The caller stops waiting: its queued rows leave, its future ends cancelled."""
        if item.future.done():
            return
        item.failure = failure
        item.drop()
