"""The callers waiting on one batcher: one timer sweep per batcher enforces the request
timeout (504) and watches clients that left (499), nothing per request (docs/inference.md)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

from service.errors import ServiceError
from service.inference.backends.base import Outputs
from service.inference.runtime.pending import ClientGone, GoneWatch, InferenceTimeout, Pending

log = logging.getLogger(__name__)
GONE_WATCH_AFTER_S = 0.02  # a request still waiting by then starts watching its client
SWEEP_S = 0.02  # how often waiting requests are checked for their timeout and watch


class Waiting:
    def __init__(self, timeout_s: float | None) -> None:
        self.timeout_s = timeout_s
        self._waiting: dict[Pending, GoneWatch | None] = {}  # oldest first
        self._watches: dict[Pending, asyncio.Task[None]] = {}
        self._sweeper: asyncio.TimerHandle | None = None

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def __iter__(self) -> Iterator[Pending]:
        return iter(list(self._waiting))

    async def result(self, item: Pending, gone: GoneWatch | None) -> Outputs:
        """The item's outputs; `gone()` resolving first (the client left) drops the item."""
        future = item.future
        self._waiting[item] = gone
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().call_later(SWEEP_S, self._sweep)
        try:
            return await future
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
            if not future.done() or future.cancelled():  # our caller was cancelled
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
            if self.timeout_s is not None and waited >= self.timeout_s:
                self._time_out(item)
            elif gone is not None and waited >= GONE_WATCH_AFTER_S and item not in self._watches:
                self._watches[item] = asyncio.ensure_future(self._watch(item, gone))
        if self._waiting:
            self._sweeper = asyncio.get_running_loop().call_later(SWEEP_S, self._sweep)

    def _time_out(self, item: Pending) -> None:
        self._abandon(
            item,
            InferenceTimeout(
                f"no answer within the {self.timeout_s:g} s request timeout "
                "(AESVC_REQUEST_TIMEOUT_S); the rows were dropped"
            ),
        )

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
