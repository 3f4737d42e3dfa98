"""A dataset's rows as a file to download, a chunk at a time: an .npy (the header, then
each chunk's float32 bytes, streamed) or a Parquet file (a row group per chunk, each sent
as it is written). Neither holds the whole matrix, in memory or on disk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from service.datasets.chunks import ChunkedRows, npy_header

NPY = "application/x-npy"
PARQUET = "application/vnd.apache.parquet"


def npy_size(rows: ChunkedRows) -> int:
    """The bytes npy_stream yields: sent as Content-Length, so that a client whose download
    stops part-way (a chunk that fails its check) sees a short body, not a smaller file."""
    return len(npy_header(rows.n_rows, rows.n_features)) + rows.nbytes


def npy_stream(rows: ChunkedRows) -> Iterator[bytes]:
    """np.save's bytes of the (n_rows, n_features) float32 matrix: its sha256 is the
    dataset's `sha256`. The first chunk is read before this returns: a store that cannot
    be read (503), a missing or damaged chunk, is the answer's status, not a 200 whose body
    breaks off after the header. A later chunk's failure can only cut the body short
    (Content-Length tells the client)."""
    first = rows.read_chunk(0, copy=False)
    return _npy_parts(rows, first)


def _npy_parts(rows: ChunkedRows, first: np.ndarray) -> Iterator[bytes]:
    yield npy_header(rows.n_rows, rows.n_features)
    yield first.tobytes()
    for index in range(1, len(rows.chunks)):
        yield rows.read_chunk(index, copy=False).tobytes()


class _Written:
    """Where ParquetWriter writes: what it wrote since the last take()."""

    closed = False

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: Any) -> int:
        part = bytes(data)
        self.parts.append(part)
        self.size += len(part)
        return len(part)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def parquet_stream(rows: ChunkedRows, names: list[str]) -> Iterator[bytes]:
    """The rows as a Parquet file (one float32 column per feature, named as the dataset's
    features), a row group per chunk, each sent as it is written (Parquet's footer comes
    last, and nothing before it is written again). The first row group is written before
    this returns, as npy_stream's first chunk is read. Spooled whole to a file first, each
    download held a copy of the dataset on disk for as long as its client read (a client
    reading 50 KB/s held a 100 MB dataset's 137 MB for as long as it cared to)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(name, pa.float32()) for name in names])
    written = _Written()
    writer = pq.ParquetWriter(written, schema)

    def group(block: np.ndarray) -> bytes:
        columns = [pa.array(block[:, j]) for j in range(block.shape[1])]
        writer.write_table(pa.Table.from_arrays(columns, schema=schema))
        return written.take()

    first = group(rows.read_chunk(0, copy=False))
    return _parquet_parts(rows, first, group, writer, written)


def _parquet_parts(
    rows: ChunkedRows, first: bytes, group: Any, writer: Any, written: _Written
) -> Iterator[bytes]:
    yield first
    for index in range(1, len(rows.chunks)):
        yield group(rows.read_chunk(index, copy=False))
    writer.close()
    yield written.take()
