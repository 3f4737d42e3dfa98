"""A batch job's chunks in a pipeline: the next input chunk is read, and earlier output
chunks serialised, summarised, stored and recorded, while the current one is computed.
Reads and writes are I/O and hashing (which release the GIL), so they overlap the model's
forward pass.

At most one chunk is read ahead. Writes run on one thread, in order, up to WRITES_AHEAD
of them queued, so that one slow write (an fsync, the profile taken once its sample is
complete) does not hold up the forward pass. A write starts only if every earlier one
succeeded: after a lost lease or an error none is attempted, so chunks are recorded in
order without a gap, as without the pipeline; a worker killed mid-way leaves every chunk
it recorded, and nothing else.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

import numpy as np

WRITES_AHEAD = 4


class ChunkPipeline:
    def __init__(self, read: Callable[[int], np.ndarray], n_chunks: int) -> None:
        self._read, self._n_chunks = read, n_chunks
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="batch-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="batch-write")
        self._ahead: dict[int, Future[np.ndarray]] = {}
        self._pending: deque[Future[bool]] = deque()
        self._stopped = False  # a write lost the lease or failed: none starts after it
        self._lost = False  # a write returned False (seen by the caller's thread)

    def __enter__(self) -> ChunkPipeline:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Waits for what is in flight (a write ends recorded or not at all)."""
        for future in self._ahead.values():
            future.cancel()
        self._reader.shutdown(wait=True)
        self._writer.shutdown(wait=True)

    def read(self, position: int) -> np.ndarray:
        """Input chunk `position` (read ahead if it was), and the next one's read started."""
        future = self._ahead.pop(position, None) or self._reader.submit(self._read, position)
        if position + 1 < self._n_chunks:
            self._ahead[position + 1] = self._reader.submit(self._read, position + 1)
        return future.result()

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
