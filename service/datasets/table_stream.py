"""csv and parquet uploads, read a record batch at a time: memory bounded by a batch.

Two passes over the spooled file: the first finds the columns, counts the rows and keeps
the labels (the dataset's checksum is that of the .npy it becomes, whose header holds the
row count); the second, `blocks()`, converts each batch's feature columns to float32 as
the chunk writer takes them, and again for `chunk_again`. A csv is read with every column
as text and cast per batch, so a column that turns non-numeric on row 5,000,000 is
refused naming that row, as a whole-file read would, rather than by the reader's type
guess from its first block.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from service.datasets.columns import (
    ColumnError,
    decide_header,
    first_line,
    numeric_column,
    positional_names,
)
from service.errors import Unprocessable

BATCH_BYTES = 4 << 20  # a record batch's size on disk, about


def _open(path: Path, fmt: str, has_header: bool, names: list[str] | None) -> Iterator[Any]:
    """The file's record batches; a csv's columns all as text (nulls where empty or NA)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    try:
        if fmt == "parquet":
            # pre_buffer (pyarrow's default) reads every row group's bytes before the
            # first batch: memory would grow with the file instead of a row group
            parquet = pq.ParquetFile(path, pre_buffer=False, buffer_size=BATCH_BYTES)
            columns = max(1, parquet.metadata.num_columns)
            yield from parquet.iter_batches(batch_size=max(1, BATCH_BYTES // (8 * columns)))
            return
        read = pacsv.ReadOptions(
            autogenerate_column_names=not has_header, block_size=BATCH_BYTES, use_threads=False
        )
        convert = pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names or []}, strings_can_be_null=True
        )
        yield from pacsv.open_csv(path, read_options=read, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise _unreadable(fmt, exc) from exc


def _unreadable(fmt: str, exc: Exception) -> Unprocessable:
    """422 naming `file`; a column name that is not UTF-8 fails as pyarrow decodes it."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, UnicodeDecodeError):
        message = f"it is not UTF-8 text ({message}): save it as UTF-8"
    return Unprocessable("file", f"could not read the {fmt} file: {message}")


def _column_names(path: Path, fmt: str, has_header: bool) -> list[str]:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    try:
        if fmt == "parquet":
            return [str(n) for n in pq.ParquetFile(path).schema_arrow.names]
        # the block the second pass reads with: a row wider than the block is refused by both
        read = pacsv.ReadOptions(autogenerate_column_names=not has_header, block_size=BATCH_BYTES)
        names = [str(n) for n in pacsv.open_csv(path, read_options=read).schema.names]
    except (pa.ArrowInvalid, pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise _unreadable(fmt, exc) from exc
    return names if has_header else positional_names(len(names))


def _as_numbers(batch: Any, name: str, read_as: str, first_row: int) -> np.ndarray:
    """A column of one batch as float32: a numeric column as is, text cast by pyarrow, and
    only where that fails the cell-by-cell read that names the first bad cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = batch.column(read_as)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        # where the cast fails, numeric_column reads cell by cell and names the bad one
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
            column = pc.cast(pc.utf8_trim_whitespace(column), pa.float64())
    try:
        return numeric_column(pa.table({name: column}), name, first_row=first_row)
    except ColumnError as exc:
        raise Unprocessable(exc.field, exc.message) from exc


def _labels(parts: list[Any]) -> np.ndarray:
    """The label column, whole (one value per row, kept as Arrow arrays while read): text,
    numbers or booleans, one in every row; read as text, numbers stay numbers (1, 2, 10 sort
    as numbers, not as text) where no two labels become one number (codes such as 1 and 01
    stay text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = pa.chunked_array(parts) if parts else pa.chunked_array([], pa.string())
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_decimal(column.type):  # SQL's NUMERIC: whole numbers stay whole
        column = column.cast(pa.int64() if column.type.scale == 0 else pa.float64())
    kind = column.type
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    plain = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
    if not (text or plain):
        raise Unprocessable(
            "label_column",
            f"the label column holds {kind} values; labels are text, numbers or booleans",
        )
    if column.null_count:
        row = int(np.flatnonzero(pc.is_null(column).to_numpy(zero_copy_only=False))[0]) + 1
        raise Unprocessable(
            "label_column",
            f"row {row} has no label (an empty cell, or a missing-value marker such as NA or "
            "null; rows counted from 1 after the header): every row needs one",
        )
    if text:  # numbers, unless that would make two labels one ("1" and "01", "7" and "7.0")
        trimmed = pc.utf8_trim_whitespace(column)
        for numeric in (pa.int64(), pa.float64()):
            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
                as_numbers = pc.cast(trimmed, numeric)
                distinct = len(pc.unique(as_numbers)) == len(pc.unique(trimmed))
                column = as_numbers if distinct else trimmed  # text, as the labels compared
                break
    return np.asarray(column.to_numpy(zero_copy_only=False))


class TableStream:
    """What `parsing.StreamedData` needs of a csv or parquet file, in bounded memory."""

    def __init__(self, path: Path, fmt: str, label_column: str | None, header: bool | None) -> None:
        self.path, self.fmt = path, fmt
        self.has_header = decide_header(first_line(path), header) if fmt == "csv" else True
        names = _column_names(path, fmt, self.has_header)
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise Unprocessable(
                "file", f"column names must be unique; {repeated} appear more than once"
            )
        if label_column is not None and label_column not in names:
            raise Unprocessable(
                "label_column", f"no column named {label_column!r} (columns: {names})"
            )
        self.names = names
        # the reader's own names: a csv without a header reads as f0, f1, ... (pyarrow's)
        generated = not self.has_header and fmt == "csv"
        self.read_as = {n: (f"f{i}" if generated else n) for i, n in enumerate(names)}
        self.label_column = label_column
        self.features = [n for n in names if n != label_column]
        if not self.features:
            raise Unprocessable("file", "the file has no feature columns")
        self.n_rows = 0
        labels: list[Any] = []
        for batch in self._batches():
            self.n_rows += batch.num_rows
            if label_column is not None:
                labels.append(batch.column(self.read_as[label_column]))
        self.y = _labels(labels) if label_column is not None else None

    def _batches(self) -> Iterator[Any]:
        as_read = list(self.read_as.values()) if self.fmt == "csv" else None
        return _open(self.path, self.fmt, self.has_header, as_read)

    def blocks(self) -> Iterator[np.ndarray]:
        first_row = 0
        for batch in self._batches():
            if batch.num_rows:
                columns = [_as_numbers(batch, n, self.read_as[n], first_row) for n in self.features]
                yield np.stack(columns, axis=1)
            first_row += batch.num_rows
