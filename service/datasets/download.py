"""A dataset's rows as a file to download, a chunk at a time: an .npy (the header, then
each chunk's float32 bytes, streamed) or a Parquet file (a row group per chunk, written to
the spool first: Parquet's footer comes last). Neither holds the whole matrix in memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from service.datasets.chunks import ChunkedRows, npy_header

NPY = "application/x-npy"
PARQUET = "application/vnd.apache.parquet"
READ_BYTES = 1 << 20


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


def parquet_file(rows: ChunkedRows, names: list[str], spool: Path) -> BinaryIO:
    """The rows as a Parquet file (one float32 column per feature, named as the dataset's
    features), open for reading; its name is gone already, so closing it frees it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from service.tmpfiles import locked_temp

    schema = pa.schema([pa.field(name, pa.float32()) for name in names])
    with locked_temp(spool) as (tmp, path):
        with pq.ParquetWriter(tmp, schema) as writer:
            for _, block in rows.iter_chunks():
                columns = [pa.array(block[:, j]) for j in range(block.shape[1])]
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))
        tmp.flush()
        reader = path.open("rb")  # open before locked_temp removes the name
    return reader


def file_stream(file: BinaryIO) -> Iterator[bytes]:
    with file:
        while block := file.read(READ_BYTES):
            yield block
