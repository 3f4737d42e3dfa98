"""A batch job's chunks in a pipeline: `lanes` threads each read a chunk and compute it,
so that on n cores n chunks are in work at once, each on one thread, and the caller takes
the results in order. A read is file or network I/O and a checksum, a pass is torch: all
of it outside the GIL. On a busy machine a descheduled thread of a two-thread pass holds up
every barrier of its team, which one-thread lanes do not have (docs/batch.md has the
figures).

The results' serialising, summary, storing and recording run on one writer thread, in
order, up to WRITES_AHEAD of them queued, so that one slow write (an fsync, the profile
taken once its sample is complete) does not hold up the lanes. A write starts only if every
earlier one succeeded: after a lost lease or an error none is attempted, so chunks are
recorded in order without a gap; a worker killed mid-way leaves every chunk it recorded,
and nothing else. A chunk computed but not yet written has no effect anywhere.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")
WRITES_AHEAD = 4


class ChunkPipeline(Generic[T]):
    def __init__(self, work: Callable[[int], T], positions: range, *, lanes: int) -> None:
        self._work, self._positions, self._depth = work, positions, lanes + 1
        self._lanes = ThreadPoolExecutor(lanes, thread_name_prefix="batch-lane")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="batch-write")
        self._ahead: deque[tuple[int, Future[T]]] = deque()
        self._pending: deque[Future[bool]] = deque()
        self._stopped = False  # a write lost the lease or failed: none starts after it
        self._lost = False  # a write returned False (seen by the caller's thread)

    def __enter__(self) -> ChunkPipeline[T]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Drops the chunks not taken and waits for what is in flight (a write ends
        recorded or not at all)."""
        for _, future in self._ahead:
            future.cancel()
        self._lanes.shutdown(wait=True)
        self._writer.shutdown(wait=True)

    def results(self) -> Iterator[tuple[int, T]]:
        """(position, work(position)) for each position in order, up to lanes + 1 of them
        in work ahead of the one taken; a work's error is raised here."""
        positions = iter(self._positions)
        for position in positions:
            self._ahead.append((position, self._lanes.submit(self._work, position)))
            if len(self._ahead) == self._depth:
                break
        while self._ahead:
            position, future = self._ahead.popleft()
            following = next(positions, None)
            if following is not None:
                self._ahead.append((following, self._lanes.submit(self._work, following)))
            yield position, future.result()

    def write(self, action: Callable[[], bool]) -> bool:
        """Queue `action` (store and record a chunk) after the earlier writes, once fewer
        than WRITES_AHEAD are queued; False, and nothing queued, once an earlier write has
        returned False (the lease was lost); an earlier write's error is re-raised."""
        if not self._settle(block=len(self._pending) >= WRITES_AHEAD):
            return False
        self._pending.append(self._writer.submit(self._guarded, action))
        return True

    def drain(self) -> bool:
        """Wait for every queued write: False where one lost the lease (its error, where
        one failed)."""
        return self._settle(block=True, every=True)

    def _guarded(self, action: Callable[[], bool]) -> bool:
        if self._stopped:  # an earlier chunk was not recorded: this one must not be
            return False
        try:
            ok = action()
        except BaseException:
            self._stopped = True
            raise
        if not ok:
            self._stopped = True
        return ok

    def _settle(self, *, block: bool, every: bool = False) -> bool:
        """Collect the ended writes, oldest first (waiting for the oldest where `block`;
        for all where `every`, or where a write has stopped the others: its outcome, its
        error, is then collected); False once one of them returned False."""
        if self._stopped:
            block = every = True
        while self._pending and (block or self._pending[0].done()):
            if not self._pending.popleft().result():
                self._lost = True
            block = every
        return not self._lost
