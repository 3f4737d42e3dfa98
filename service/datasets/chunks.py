"""A dataset's rows as chunks: float32 .npy blobs of a few MB each, written and read one at
a time, so that neither an upload nor a training job holds a whole dataset in memory.

Why .npy chunks and not Parquet row groups: the rows are a dense float32 matrix, which
Parquet neither compresses well nor decodes for free; an .npy chunk is the matrix's own
bytes behind a 128-byte header (np.lib.format), loads with no copy but the read, and needs
no new dependency. Every chunk but the last holds the same number of rows, so the chunk of
row i is found by arithmetic (`first_row` is stored anyway). Each chunk is an ordinary
content-addressed blob of the artifact store, on a folder or an object store alike, checked
on every read against the xxh3-64 recorded beside it (chunks recorded before that: their
sha256).

A dataset stored before chunks existed is one .npy blob: it reads as a single chunk.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from service.artifacts import ArtifactCorrupted, ArtifactMissing, ArtifactStore, fast_checksum
from service.errors import Unprocessable
from service.npy import plain_npy_view
from service.zoo.profile import DataProfile, ProfileAccumulator

CHUNK_BYTES = 4 << 20  # a chunk's float32 rows: small to hold, large enough to read fast


def rows_per_chunk(n_features: int) -> int:
    return max(1, CHUNK_BYTES // (4 * max(1, n_features)))


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_header(n_rows: int, n_features: int) -> bytes:
    """The header np.save writes before a C-ordered float32 (n_rows, n_features) matrix."""
    buffer = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": (n_rows, n_features)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def npy_view(data: bytes) -> np.ndarray:
    """The array of an .npy blob: a read-only view of `data` for what np.save writes for a
    chunk's matrix (service.npy), else loaded (a writable copy)."""
    view = plain_npy_view(data)
    return view if view is not None else np.asarray(np.load(io.BytesIO(data), allow_pickle=False))


@dataclass(frozen=True)
class ChunkRef:
    sha256: str
    first_row: int
    n_rows: int
    xxh3: str | None = None  # the check on read (None: the sha256; a one-blob dataset)


class ChunkedRows:
    """Read access to a dataset's rows, a chunk at a time (both layouts)."""

    def __init__(self, store: ArtifactStore, chunks: list[ChunkRef], n_features: int) -> None:
        self.store, self.chunks, self.n_features = store, chunks, n_features
        self.n_rows = sum(c.n_rows for c in chunks)
        self._starts = np.array([c.first_row for c in chunks], dtype=np.int64)

    @property
    def nbytes(self) -> int:
        return self.n_rows * self.n_features * 4

    def __len__(self) -> int:
        return self.n_rows

    def read_chunk(self, index: int, *, copy: bool = True) -> np.ndarray:
        """(n_rows of the chunk, F) float32, checked by the store; with copy=False
        possibly a read-only view of the bytes read (no second copy of the chunk): not to be
        written to."""
        ref = self.chunks[index]
        try:
            data = self.store.get_bytes(ref.sha256, xxh3=ref.xxh3)
        except (ArtifactCorrupted, ArtifactMissing) as exc:  # no retry brings it back
            last = ref.first_row + ref.n_rows - 1
            raise type(exc)(f"chunk {index} (rows {ref.first_row}-{last}): {exc}") from exc
        array = npy_view(data)
        if array.shape != (ref.n_rows, self.n_features):
            raise ValueError(f"chunk {ref.sha256} has shape {array.shape}, not the recorded one")
        return array.astype(np.float32, copy=copy)

    def iter_chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """Each chunk in order, as read_chunk(copy=False) gives it: not to be written to."""
        for index in range(len(self.chunks)):
            yield index, self.read_chunk(index, copy=False)

    def read_all(self) -> np.ndarray:
        """The whole matrix (N, F): for datasets small enough to hold."""
        if len(self.chunks) == 1:
            return self.read_chunk(0)
        out = np.empty((self.n_rows, self.n_features), dtype=np.float32)
        for index, rows in self.iter_chunks():
            start = self.chunks[index].first_row
            out[start : start + len(rows)] = rows
        return out

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The given rows (sorted, unique indices), reading only the chunks that hold them."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.n_features), dtype=np.float32)
        owner = np.searchsorted(self._starts, rows, side="right") - 1  # chunk of each row
        for index in np.unique(owner):
            picked = np.flatnonzero(owner == index)
            chunk = self.read_chunk(int(index), copy=False)
            out[picked] = chunk[rows[picked] - self._starts[index]]
        return out

    def head(self, n: int) -> np.ndarray:
        """The first n rows (a sample for plots of a large dataset)."""
        return self.take(np.arange(min(n, self.n_rows)))


def chunk_again(blocks: Iterator[np.ndarray], ref: ChunkRef) -> bytes:
    """A chunk's .npy bytes made again from the blocks it was written from."""
    parts, seen = [], 0
    end = ref.first_row + ref.n_rows
    for block in blocks:
        lo, hi = max(ref.first_row - seen, 0), min(end - seen, len(block))
        if lo < hi:
            parts.append(np.asarray(block[lo:hi], dtype=np.float32))
        seen += len(block)
        if seen >= end:
            break
    return npy_bytes(np.ascontiguousarray(np.concatenate(parts)))


_NARROW = 32  # features up to which FeatureMoments reduces a block feature by feature


@dataclass
class FeatureMoments:
    """Per-feature mean, variance, min and max merged block by block (Chan et al.)."""

    n: int = 0
    mean: np.ndarray | None = None
    m2: np.ndarray | None = None
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None

    def update(self, block: np.ndarray) -> None:
        n_b = len(block)
        if block.ndim == 2 and block.shape[1] <= _NARROW:
            # A few features (a batch job's codings or scores): reduced along each feature's
            # own contiguous copy; down the rows, each step adds a row of a few values, many
            # times slower (docs/batch.md). In its own dtype: the sums are float64 all the
            # same (a float64 copy first made it 2.8x slower, with equal results).
            xt = np.ascontiguousarray(block.T)
            mean_b = xt.mean(axis=1, dtype=np.float64)
            centred = xt - mean_b[:, None]  # float64
            np.square(centred, out=centred)
            m2_b, lo_b, hi_b = centred.sum(axis=1), xt.min(axis=1), xt.max(axis=1)
            lo_b, hi_b = lo_b.astype(np.float64), hi_b.astype(np.float64)
        else:
            x = block.astype(np.float64)
            mean_b = x.mean(axis=0)
            m2_b = ((x - mean_b) ** 2).sum(axis=0)
            lo_b, hi_b = x.min(axis=0), x.max(axis=0)
        if self.mean is None or self.m2 is None or self.lo is None or self.hi is None:
            self.n, self.mean, self.m2, self.lo, self.hi = n_b, mean_b, m2_b, lo_b, hi_b
            return
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * n_b / n
        self.m2 = self.m2 + m2_b + delta**2 * self.n * n_b / n
        self.lo, self.hi, self.n = np.minimum(self.lo, lo_b), np.maximum(self.hi, hi_b), n

    def stats(self) -> dict[str, list[float]]:
        assert self.mean is not None and self.m2 is not None
        assert self.lo is not None and self.hi is not None
        return {
            "mean": self.mean.tolist(),
            "std": np.sqrt(self.m2 / self.n).tolist(),
            "min": self.lo.tolist(),
            "max": self.hi.tolist(),
        }


@dataclass
class WrittenRows:
    chunks: list[ChunkRef]
    sha256: str  # of the whole matrix as one float32 .npy (what a one-blob dataset stores)
    size_bytes: int
    stats: dict[str, list[float]]
    profile: DataProfile


@dataclass
class ChunkWriter:
    """Takes float32 row blocks of any size, checks them, and stores them as chunks.

    On the way: the matrix's sha256, its per-feature stats and its profile. Non-finite
    values stop the writing but not the counting, so the error names them all. The
    caller owns the chunks written so far (`chunks`): on any failure it drops them.
    """

    store: ArtifactStore
    n_rows: int  # declared up front: the .npy header of the whole matrix is hashed first
    n_features: int
    image_shape: list[int] | None = None
    # told each chunk's sha256 before it appears in the store (an upload records it there)
    before_publish: Callable[[str], None] | None = None
    chunks: list[ChunkRef] = field(default_factory=list)
    _pending: list[np.ndarray] = field(default_factory=list)
    _pending_rows: int = 0
    _seen: int = 0
    _bad_values: int = 0
    _bad_rows: int = 0
    _first_bad: int | None = None
    _size: int = 0

    def __post_init__(self) -> None:
        self._digest = hashlib.sha256(npy_header(self.n_rows, self.n_features))
        self._moments = FeatureMoments()
        self._profile = ProfileAccumulator(self.n_features, self.image_shape)
        self._chunk_rows = rows_per_chunk(self.n_features)

    def add(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=np.float32)
        if block.ndim != 2 or block.shape[1] != self.n_features:
            raise ValueError(f"a block of shape {block.shape} in a {self.n_features}-wide matrix")
        bad = ~np.isfinite(block)
        if bad.any():
            rows = np.flatnonzero(bad.any(axis=1))
            if self._first_bad is None:
                self._first_bad = self._seen + int(rows[0])
            self._bad_values += int(bad.sum())
            self._bad_rows += len(rows)
        self._seen += len(block)
        if self._seen > self.n_rows:
            raise ValueError(f"more rows than the {self.n_rows} declared")
        if self._first_bad is not None:
            self._pending, self._pending_rows = [], 0
            return  # refused at finish(); nothing more is stored
        self._digest.update(block.data)
        self._moments.update(block)
        self._profile.update(block)
        self._pending.append(block)
        self._pending_rows += len(block)
        while self._pending_rows >= self._chunk_rows:
            self._flush(self._chunk_rows)

    def _flush(self, n: int) -> None:
        rows = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        chunk, rest = rows[:n], rows[n:]
        self._pending = [rest] if len(rest) else []
        self._pending_rows = len(rest)
        data = npy_bytes(chunk)
        stored = self.store.put_bytes(data, before_publish=self.before_publish)
        first = self.chunks[-1].first_row + self.chunks[-1].n_rows if self.chunks else 0
        ref = ChunkRef(stored.sha256, first, len(chunk), fast_checksum(data))
        self.chunks.append(ref)
        self._size += stored.size_bytes

    def finish(self) -> WrittenRows:
        if self._first_bad is not None:
            raise Unprocessable(
                "file",
                f"{self._bad_values} NaN or infinite values in {self._bad_rows} rows; the "
                f"first is row {self._first_bad} (0-based, header excluded)",
                bad_values=self._bad_values,
                first_bad_row=self._first_bad,
            )
        if self._seen != self.n_rows:
            raise Unprocessable(
                "file", f"the data end after {self._seen} of the {self.n_rows} rows declared"
            )
        if self._pending_rows:
            self._flush(self._pending_rows)
        return WrittenRows(
            chunks=list(self.chunks),
            sha256=self._digest.hexdigest(),
            size_bytes=self._size,
            stats=self._moments.stats(),
            profile=self._profile.result(),
        )
