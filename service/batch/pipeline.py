"""A batch job's chunks in a pipeline: the next input chunk is read, and the previous output
chunk stored and recorded, while the current one is computed. Reads and writes are I/O
and hashing (which release the GIL), so they overlap the model's forward pass.

At most one chunk is read ahead and one write is in flight. Writes run on one thread and
each is waited for before the next starts, so chunks are recorded in order, as without
the pipeline; a worker killed mid-way leaves every chunk it recorded, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

import numpy as np


class ChunkPipeline:
    def __init__(self, read: Callable[[int], np.ndarray], n_chunks: int) -> None:
        self._read, self._n_chunks = read, n_chunks
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="batch-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="batch-write")
        self._ahead: dict[int, Future[np.ndarray]] = {}
        self._pending: Future[bool] | None = None

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
        """Start `action` (store and record a chunk) once the previous write has ended;
        returns that previous write's result (False: the lease was lost), re-raising its
        error."""
        previous = self.drain()
        if previous:
            self._pending = self._writer.submit(action)
        return previous

    def drain(self) -> bool:
        """Wait for the write in flight; its result (True where there was none)."""
        pending, self._pending = self._pending, None
        return pending.result() if pending is not None else True
