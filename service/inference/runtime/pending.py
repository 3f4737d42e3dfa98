"""A queued request (carrying its own future), the row budget that bounds every queue
together, and the errors a caller of the batcher can get."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from service.errors import ServiceError, ServiceUnavailable
from service.inference.backends.base import Outputs
from service.metrics import ServiceMetrics

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
    """Rows waiting in every queue together: what bounds the memory that queues hold.

    The queue-depth gauge reads `used` when scraped (nothing per request)."""

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
