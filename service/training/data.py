"""Training data larger than memory: one streaming pass to prepare, then shuffled batches
read chunk by chunk (service.datasets.chunks), in an order fixed by (seed, epoch).

A dataset up to IN_MEMORY_BYTES is loaded whole and trained as before (trainer.py): the
same speed, the same weights for a seed. Past it:
- the split: each row draws u in [0, 1) from a generator seeded by (seed, chunk); u below
  the validation fraction makes it a validation row. No permutation of N is held, and a
  row's side never depends on how the dataset is read;
- one pass (`scan_rows`) takes the profile (for `auto`), the training rows' per-feature
  moments (the preprocessor), the validation rows (at most VAL_MAX_BYTES of them, drawn
  uniformly by the same u) and a sample of training rows (the PCA start, the anomaly score
  statistics and the PCA baseline);
- each epoch (`ShuffledChunks`) visits the chunks in a permuted order and shuffles the rows
  of a group of chunks (a shuffle buffer of SHUFFLE_BUFFER_BYTES) before cutting batches.
  Both permutations come from a generator seeded by (seed, epoch): a run resumed from an
  epoch's checkpoint sees the batches an uninterrupted run sees, and one resumed from a
  checkpoint within an epoch reads the epoch's chunks again up to there, skipping the
  batches done (`set_epoch(epoch, skip)`).

Either way, the rows a run split, fitted and validated on are found again by index without
reading a chunk (`fitted_rows`, `validation_rows`): a sweep's figures and a version's
plots read only those rows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from torch.utils.data import IterableDataset

from service.artifacts import retry_store
from service.datasets.chunks import ChunkedRows, FeatureMoments
from service.zoo.profile import DataProfile, ProfileAccumulator

IN_MEMORY_BYTES = 64 << 20  # datasets up to this are trained from memory
SHUFFLE_BUFFER_BYTES = 32 << 20  # rows shuffled together: a group of chunks
VAL_MAX_BYTES = 16 << 20  # validation rows held in memory (a uniform draw past it)
TRAIN_SAMPLE_BYTES = 8 << 20  # training rows kept for the fits done after training
PREFETCH_CHUNKS = 2  # chunks read ahead by a thread while the current ones train


class TrainingFailed(Exception):
    """The spec cannot train on this data (e.g. the loss diverged); retrying will not help."""


class TrainingInterrupted(Exception):
    """should_stop() returned True; the last checkpoint (of an epoch, or within one) stays."""


StopCheck = Callable[[], bool] | None


def check_stop(should_stop: StopCheck, where: str) -> None:
    """Between chunks too: a pass over a large dataset takes minutes, and a cancel, a lost
    lease or a worker told to stop must not wait for its end."""
    if should_stop is not None and should_stop():
        raise TrainingInterrupted(f"stopped {where}")


def split_rows(n_rows: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, validation rows), sorted; the split train() makes for this seed."""
    n_val = max(1, round(n_rows * fraction))
    if n_rows - n_val < 1:
        raise TrainingFailed(f"{n_rows} rows cannot be split into training and validation")
    order = np.random.default_rng(seed).permutation(n_rows)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def is_streamed(rows: ChunkedRows) -> bool:
    """Whether a job streams these rows (else it loads them whole). A dataset stored as one
    blob (before #28) is read whole either way, so it trains in memory as it did."""
    return rows.nbytes > IN_MEMORY_BYTES and len(rows.chunks) > 1


@dataclass(frozen=True)
class StreamSplit:
    """Which rows of a chunk are validation rows, which are kept as samples."""

    fraction: float
    seed: int
    val_keep: float  # share of the validation rows held in memory
    train_keep: float  # share of the training rows kept as the training sample

    @classmethod
    def for_rows(cls, rows: ChunkedRows, fraction: float, seed: int) -> StreamSplit:
        row_bytes = rows.n_features * 4
        val_bytes = max(1.0, fraction * rows.n_rows * row_bytes)
        train_bytes = max(1.0, (1 - fraction) * rows.n_rows * row_bytes)
        return cls(
            fraction=fraction,
            seed=seed,
            val_keep=min(1.0, VAL_MAX_BYTES / val_bytes),
            train_keep=min(1.0, TRAIN_SAMPLE_BYTES / train_bytes),
        )

    def draws(self, chunk: int, n_rows: int) -> np.ndarray:
        return np.random.default_rng([self.seed, chunk]).random(n_rows)  # (n_rows,)

    def is_val(self, chunk: int, n_rows: int) -> np.ndarray:
        return self.draws(chunk, n_rows) < self.fraction

    def held(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Of a chunk's draws: which rows the scan holds as validation rows (all of them, or
        a uniform draw past VAL_MAX_BYTES) and which as the training sample."""
        val = u < self.fraction * self.val_keep
        sample = (u >= self.fraction) & (u < self.fraction + (1 - self.fraction) * self.train_keep)
        return val, sample


def stream_validation_rows(rows: ChunkedRows, split: StreamSplit, limit: int) -> np.ndarray:
    """The first `limit` validation rows' indices, found without reading a chunk."""
    found: list[np.ndarray] = []
    total = 0
    for index, ref in enumerate(rows.chunks):
        picked = ref.first_row + np.flatnonzero(split.is_val(index, ref.n_rows))
        found.append(picked[: limit - total])
        total += len(found[-1])
        if total >= limit:
            break
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def held_rows(rows: ChunkedRows, split: StreamSplit) -> tuple[np.ndarray, np.ndarray]:
    """The indices of the rows `scan_rows` holds, (training sample, validation rows), sorted
    and found without reading a chunk: the rows a streamed run's score, metrics (val_mse)
    and PCA start were fitted and measured on."""
    sample, val = [], []
    for index, ref in enumerate(rows.chunks):
        is_val, in_sample = split.held(split.draws(index, ref.n_rows))
        val.append(ref.first_row + np.flatnonzero(is_val))
        sample.append(ref.first_row + np.flatnonzero(in_sample))
    empty = [np.zeros(0, dtype=np.int64)]
    return np.concatenate(sample + empty), np.concatenate(val + empty)


def fitted_rows(rows: ChunkedRows, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, validation rows) of a dataset as train() split and held them, sorted
    indices found without reading a chunk: of a dataset trained in memory, `split_rows`'; of
    a streamed one, `held_rows`' (at most TRAIN_SAMPLE_BYTES and VAL_MAX_BYTES of rows)."""
    if not is_streamed(rows):
        return split_rows(len(rows), fraction, seed)
    return held_rows(rows, StreamSplit.for_rows(rows, fraction, seed))


def validation_rows(rows: ChunkedRows, fraction: float, seed: int, limit: int) -> np.ndarray:
    """Validation rows to look at (plots): of a dataset trained in memory all of them; of a
    streamed one the first `limit`, which lie in the first chunks (few chunks read)."""
    if not is_streamed(rows):
        return split_rows(len(rows), fraction, seed)[1]
    return stream_validation_rows(rows, StreamSplit.for_rows(rows, fraction, seed), limit)


@dataclass
class Scan:
    profile: DataProfile
    moments: FeatureMoments  # of the training rows
    X_val: np.ndarray  # (N_val kept, F) raw
    X_train_sample: np.ndarray  # (N_sample, F) raw
    n_train: int
    n_val: int


def read_chunk(rows: ChunkedRows, index: int) -> np.ndarray:
    """A chunk, read-only, a store that does not answer waited for (a corrupted or missing
    chunk is raised at once: service.training.runner fails the job, naming it)."""
    return retry_store(partial(rows.read_chunk, index, copy=False), what=f"read chunk {index}")


def scan_rows(
    rows: ChunkedRows, split: StreamSplit, image_shape: object = None, should_stop: StopCheck = None
) -> Scan:
    """The one streaming pass before training (see the module's docstring)."""
    profile = ProfileAccumulator(rows.n_features, image_shape)
    moments = FeatureMoments()
    val_parts, sample_parts, n_val = [], [], 0
    for index in range(len(rows.chunks)):
        check_stop(should_stop, "while the dataset was scanned")
        chunk = read_chunk(rows, index)
        profile.update(chunk)
        u = split.draws(index, len(chunk))
        is_val = u < split.fraction
        n_val += int(is_val.sum())
        if (~is_val).any():
            moments.update(chunk[~is_val])
        held_val, in_sample = split.held(u)
        val_parts.append(chunk[held_val])
        sample_parts.append(chunk[in_sample])
    n_train = rows.n_rows - n_val
    if n_train < 1 or n_val < 1:
        raise ValueError(f"{rows.n_rows} rows cannot be split into training and validation")
    return Scan(
        profile=profile.result(),
        moments=moments,
        X_val=np.concatenate(val_parts),
        X_train_sample=np.concatenate(sample_parts),
        n_train=n_train,
        n_val=n_val,
    )


class ShuffledChunks(IterableDataset[torch.Tensor]):
    """The training rows in batches (B, F) of raw float32, in the order of `set_epoch`."""

    def __init__(
        self,
        rows: ChunkedRows,
        split: StreamSplit,
        *,
        batch_size: int,
        buffer_bytes: int = SHUFFLE_BUFFER_BYTES,
    ) -> None:
        self.rows, self.split, self.batch_size = rows, split, batch_size
        chunk_rows = max(1, max(c.n_rows for c in rows.chunks))
        self.group = max(1, buffer_bytes // (chunk_rows * rows.n_features * 4))
        self.epoch = 1
        self.skip = 0  # batches of the epoch read but not yielded (done before a resume)
        self.should_stop: StopCheck = None  # asked before each chunk is taken

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        """The order of every epoch is fixed by (seed, epoch), whatever came before; the
        first `skip` batches of it are passed over (their chunks still read and shuffled:
        the rows a buffer carries over to the next group depend on them)."""
        self.epoch, self.skip = epoch, skip

    def _train_rows(self, index: int) -> np.ndarray:
        chunk = read_chunk(self.rows, index)
        return chunk[~self.split.is_val(index, len(chunk))]  # a copy

    def _read_ahead(self, order: np.ndarray) -> Iterator[np.ndarray]:
        """The chunks' training rows in `order`, the next ones read by a thread meanwhile
        (a read is I/O and a sha256, both outside the GIL)."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunks") as pool:
            pending: deque[Future[np.ndarray]] = deque()
            for index in order:
                pending.append(pool.submit(self._train_rows, int(index)))
                if len(pending) > PREFETCH_CHUNKS:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def __iter__(self) -> Iterator[torch.Tensor]:
        rng = np.random.default_rng([self.split.seed, self.epoch, 1])
        order = rng.permutation(len(self.rows.chunks))
        carry = np.zeros((0, self.rows.n_features), dtype=np.float32)
        group: list[np.ndarray] = []
        B, batch = self.batch_size, 0
        chunks = self._read_ahead(order)
        for position, train_rows in enumerate(chunks, start=1):
            check_stop(self.should_stop, f"during epoch {self.epoch}")
            group.append(train_rows)
            if len(group) < self.group and position < len(order):
                continue
            buffer = np.concatenate([carry, *group])  # (≤ buffer rows, F)
            group = []
            shuffled = rng.permutation(len(buffer))
            full = len(buffer) // B * B
            for start in range(0, full, B):
                if batch >= self.skip:
                    yield torch.from_numpy(buffer[shuffled[start : start + B]])
                batch += 1
            carry = buffer[shuffled[full:]]
        if len(carry) and batch >= self.skip:
            yield torch.from_numpy(carry)
