"""Turn an uploaded file into a float32 matrix (and optional labels), or say exactly why not."""

from __future__ import annotations

import io
import math
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from service.datasets.columns import ColumnError
from service.datasets.table_stream import TableStream
from service.errors import Unprocessable, UnsupportedMediaType
from service.tmpfiles import locked_temp

FORMATS = {".csv": "csv", ".npy": "npy", ".npz": "npz", ".parquet": "parquet"}
# A browser or client that does not know the format sends one of the generic types.
GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream"}
CONTENT_TYPES = {
    "csv": {"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"},
    "npy": {"application/x-npy", "application/npy"},
    "npz": {"application/x-npz", "application/zip", "application/x-zip-compressed"},
    "parquet": {"application/vnd.apache.parquet", "application/x-parquet", "application/parquet"},
}


@dataclass
class ParsedData:
    X: np.ndarray  # (N, F) float32
    y: np.ndarray | None  # (N,) int64 codes into label_names
    feature_names: list[str]
    label_names: list[str] | None


BLOCK_BYTES = 4 << 20  # what a streamed upload reads at a time


@dataclass
class StreamedData:
    """A matrix read block by block (an upload's .npy, or an .npz member): its size is
    known from its header, its rows come from `blocks()`, never whole."""

    n_rows: int
    n_features: int
    blocks: Callable[[], Iterator[np.ndarray]]  # (rows, F) blocks of any numeric dtype
    y: np.ndarray | None
    feature_names: list[str]
    label_names: list[str] | None


def as_streamed(parsed: ParsedData | StreamedData) -> StreamedData:
    if isinstance(parsed, StreamedData):
        return parsed
    X = parsed.X

    def blocks() -> Iterator[np.ndarray]:
        step = max(1, BLOCK_BYTES // max(1, X.shape[1] * 4))
        for start in range(0, len(X), step):
            yield X[start : start + step]

    return StreamedData(
        n_rows=int(X.shape[0]),
        n_features=int(X.shape[1]) if X.ndim == 2 else 0,
        blocks=blocks,
        y=parsed.y,
        feature_names=parsed.feature_names,
        label_names=parsed.label_names,
    )


def detect_format(filename: str, content_type: str | None) -> str:
    suffix = Path(filename or "").suffix.lower()
    if suffix not in FORMATS:
        raise UnsupportedMediaType(
            f"file extension {suffix or '(none)'!r} is not supported; "
            f"send one of {', '.join(FORMATS)}"
        )
    fmt = FORMATS[suffix]
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in GENERIC_TYPES and media not in CONTENT_TYPES[fmt]:
        raise UnsupportedMediaType(f"content type {media!r} does not match a {suffix} file")
    return fmt


def parse_file(
    path: Path,
    fmt: str,
    *,
    label_column: str | None,
    max_decoded_bytes: int,
    spool: Path,
    header: bool | None = None,
) -> StreamedData:
    """`max_decoded_bytes` bounds the arrays a file decodes to, checked from its headers
    before anything is decoded: a few kB of compressed zeros must not claim gigabytes.
    Every format is streamed: its rows come a block at a time (StreamedData).
    `spool` (the data dir's tmp folder) takes what must be copied out to be read a block
    at a time: an .npz's Fortran-ordered X, while its blocks are read.
    `header` (csv only): None refuses a first row of numbers (see datasets.columns)."""
    size = path.stat().st_size
    if size == 0:
        raise Unprocessable("file", "the file is empty")
    if fmt in ("npz", "parquet"):  # compressed: bounded by the file's own size too
        max_decoded_bytes = min(max_decoded_bytes, MAX_INFLATION * size)
    if header is not None and fmt != "csv":
        raise Unprocessable("header", f"only csv files have a header row, not {fmt}")
    if fmt in ("csv", "parquet"):
        try:
            return _stream_table(path, fmt, label_column, max_decoded_bytes, header)
        except ColumnError as exc:
            raise Unprocessable(exc.field, exc.message) from exc
    if label_column:
        raise Unprocessable(
            "label_column", f"only csv and parquet files have named columns, not {fmt}"
        )
    if fmt == "npy":
        return _stream_npy(path, max_decoded_bytes)
    return _parse_npz(path, max_decoded_bytes, spool)


# A compressed file (.npz members, parquet pages) may decode to at most this many times its
# own size. Deflate's own ceiling is 1,032, so only a stronger codec on repeated bytes passes
# it: 789 bytes of bzip2 declaring 200,000,000 rows and their labels were taken (the labels
# are read whole) and grew the API by 5.2 GB.
MAX_INFLATION = 1024


def _too_large(field: str, nbytes: int, max_decoded_bytes: int) -> Unprocessable:
    return Unprocessable(
        field,
        f"the data decode to {nbytes} bytes, more than the {max_decoded_bytes} an upload may "
        f"hold (AESVC_MAX_UPLOAD_BYTES, and for .npz and parquet {MAX_INFLATION} times the "
        "file's own size)",
    )


def _check_npy_header(fp: io.BufferedIOBase | zipfile.ZipExtFile, field: str, limit: int) -> int:
    """The bytes an .npy stream's array takes, from its header; refused past `limit`."""
    shape, _, dtype = _read_npy_header(fp, field)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > limit:
        raise _too_large(field, nbytes, limit)
    return nbytes


def _read_npy_header(
    fp: io.BufferedIOBase | zipfile.ZipExtFile | IO[bytes], field: str
) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = np.lib.format.read_magic(fp)
        fmt = np.lib.format
        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        header = read(fp)  # (shape, fortran order, dtype)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise Unprocessable(field, f"not a readable .npy array ({exc})") from exc
    return header


def _check_shape(shape: tuple[int, ...], dtype: np.dtype) -> None:
    if len(shape) != 2:
        raise Unprocessable("file", f"expected a 2-D array (rows, features), got shape {shape}")
    if any(type(d) is not int or d < 0 for d in shape):  # numpy's reader takes -2 and True
        raise Unprocessable("file", f"the .npy header's shape {shape} is not two counts")
    if dtype.kind not in "biuf" or dtype.hasobject:
        raise Unprocessable("file", f"expected a numeric array, got dtype {dtype}")
    check_width(shape[1])


# Features (columns) a dataset may have: a 512x512 image. Every read of a dataset names its
# features (x0, x1, ...): a few KB of zeros declaring millions of columns made hundreds of MB
# of names, in memory and in every listing.
MAX_FEATURES = 1 << 18


def check_width(n_features: int) -> None:
    if n_features > MAX_FEATURES:
        raise Unprocessable(
            "file",
            f"{n_features} features (columns): a dataset may have at most {MAX_FEATURES}",
        )


def _stream_npy(path: Path, max_decoded_bytes: int) -> StreamedData:
    """The .npy's header is checked (shape, dtype, size against the file's) before any row
    is read; the rows are then read a block at a time from the file, never mapped whole."""
    with path.open("rb") as fp:
        shape, fortran, dtype = _read_npy_header(fp, "file")
        offset = fp.tell()
    _check_shape(shape, dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > max_decoded_bytes:
        raise _too_large("file", nbytes, max_decoded_bytes)
    held = path.stat().st_size - offset
    if held < nbytes:
        raise Unprocessable(
            "file",
            f"the .npy file is truncated: its header declares {shape[0]}x{shape[1]} values of "
            f"{dtype} ({nbytes} bytes), the file holds {held} bytes of data",
        )
    n_rows, n_features = shape

    def blocks() -> Iterator[np.ndarray]:
        if fortran:
            yield from _fortran_rows(path, n_rows, n_features, dtype)
            return
        with path.open("rb") as fp:
            fp.seek(offset)
            yield from _read_rows(fp, n_rows, n_features, dtype, "file")

    return StreamedData(
        n_rows=n_rows,
        n_features=n_features,
        blocks=blocks,
        y=None,
        feature_names=[f"x{i}" for i in range(n_features)],
        label_names=None,
    )


def _fortran_rows(
    path: Path, n_rows: int, n_features: int, dtype: np.dtype
) -> Iterator[np.ndarray]:
    """The rows of a whole Fortran-ordered .npy file (columns first on disk), a block at a
    time, gathered from a read-only map of the file: a block holds a block's rows."""
    mapped = np.load(path, mmap_mode="r", allow_pickle=False)
    step = max(1, BLOCK_BYTES // max(1, n_features * dtype.itemsize))
    for start in range(0, n_rows, step):
        yield np.array(mapped[start : start + step])


def _read_rows(
    fp: IO[bytes] | zipfile.ZipExtFile,
    n_rows: int,
    n_features: int,
    dtype: np.dtype,
    field: str,
) -> Iterator[np.ndarray]:
    row_bytes = max(1, n_features * dtype.itemsize)
    step = max(1, BLOCK_BYTES // row_bytes)
    for start in range(0, n_rows, step):
        want = min(step, n_rows - start)
        try:
            data = fp.read(want * row_bytes)
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise Unprocessable(field, f"not a readable .npy array ({exc})") from exc
        if len(data) < want * row_bytes:
            raise Unprocessable(
                field,
                f"the array is truncated: its data end within row {start + len(data) // row_bytes}",
            )
        yield np.frombuffer(data, dtype=dtype).reshape(want, n_features)


_UNREADABLE = (ValueError, OSError, EOFError, MemoryError, zipfile.BadZipFile, zlib.error)


def _parse_npz(path: Path, max_decoded_bytes: int, spool: Path) -> StreamedData:
    """X is streamed from its member (stored or deflated alike). In C order its rows are
    read from the archive as they come; in Fortran order (what np.savez writes for a
    pandas DataFrame's `.values`) the member is copied to a file in `spool` a block at a
    time and read as a Fortran-ordered .npy file is, from a read-only map. y, one value a
    row, is read whole."""
    try:
        archive = np.load(path, allow_pickle=False)
    except _UNREADABLE as exc:
        raise Unprocessable("file", f"not a readable .npz archive ({exc})") from exc
    with archive:
        if "X" not in archive.files:
            raise Unprocessable(
                "file", f"the .npz needs an array named 'X' (found {archive.files})"
            )
        names = ["X", "y"] if "y" in archive.files else ["X"]
        members = set(archive.zip.namelist())
        for name in names:
            if f"{name}.npy" not in members:  # numpy would hand the member over as raw bytes
                raise Unprocessable(
                    "file",
                    f"the .npz member {name!r} is not stored as '{name}.npy' (an .npy array, "
                    "as np.savez writes it)",
                )
        total = 0
        for name in names:
            with archive.zip.open(f"{name}.npy") as member:
                total += _check_npy_header(member, "file", max_decoded_bytes - total)
        with archive.zip.open("X.npy") as member:
            shape, fortran, dtype = _read_npy_header(member, "file")
            offset = member.tell()  # where X's values begin in its member
        member_size = archive.zip.getinfo("X.npy").file_size
        _check_shape(shape, dtype)
        try:
            y = archive["y"] if "y" in archive.files else None
        except _UNREADABLE as exc:
            raise Unprocessable("file", f"unreadable array in the .npz ({exc})") from exc
    n_rows, n_features = shape
    nbytes = n_rows * n_features * dtype.itemsize
    if fortran and member_size - offset < nbytes:  # refused before anything is copied
        raise _truncated_member(shape, dtype, member_size - offset)
    if y is not None and (y.ndim != 1 or len(y) != n_rows):
        raise Unprocessable("y", f"labels must be 1-D with {n_rows} entries, got shape {y.shape}")
    codes, label_names = _encode_labels(y, "y")

    def blocks() -> Iterator[np.ndarray]:
        if fortran:
            # Columns first: a block of rows takes a stretch of every column, which a
            # member read front to back cannot give. Its copy is removed when the blocks
            # end, are given up, or fail.
            with locked_temp(spool) as (copy, copy_path):
                copied = 0
                for piece in _member_pieces(path, "X.npy", offset + nbytes):
                    copy.write(piece)  # a full disk is the caller's 507, not a bad file
                    copied += len(piece)
                if copied < offset + nbytes:
                    raise _truncated_member(shape, dtype, copied - offset)
                copy.flush()
                yield from _fortran_rows(copy_path, n_rows, n_features, dtype)
            return
        try:
            with zipfile.ZipFile(path) as archive, archive.open("X.npy") as member:
                _read_npy_header(member, "file")
                yield from _read_rows(member, n_rows, n_features, dtype, "file")
        except _UNREADABLE as exc:
            raise Unprocessable("file", f"unreadable array in the .npz ({exc})") from exc

    return StreamedData(
        n_rows=n_rows,
        n_features=n_features,
        blocks=blocks,
        y=codes,
        feature_names=[f"x{i}" for i in range(n_features)],
        label_names=label_names,
    )


def _member_pieces(path: Path, name: str, size: int) -> Iterator[bytes]:
    """The first `size` bytes of the archive's member `name`, a block at a time (fewer
    if the member ends sooner); the member's CRC is checked when they reach its end."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(name) as member:
            left = size
            while left > 0 and (piece := member.read(min(BLOCK_BYTES, left))):
                left -= len(piece)
                yield piece
    except _UNREADABLE as exc:
        raise Unprocessable("file", f"unreadable array in the .npz ({exc})") from exc


def _truncated_member(shape: tuple[int, ...], dtype: np.dtype, held: int) -> Unprocessable:
    nbytes = math.prod(shape) * dtype.itemsize
    return Unprocessable(
        "file",
        f"the .npz member 'X' is truncated: its header declares {shape[0]}x{shape[1]} values "
        f"of {dtype} ({nbytes} bytes), the member holds {max(0, held)} bytes of data",
    )


# Classes a dataset's labels may have, and characters their names may hold together. The
# names are the dataset's `label_names`, in every read and listing (the basic view too): an
# id column taken for the labels made one class a row, megabytes in every listing.
MAX_LABEL_CLASSES, MAX_LABEL_CHARS = 4096, 1 << 16


def _encode_labels(
    y: np.ndarray | None, field: str = "label_column"
) -> tuple[np.ndarray | None, list[str] | None]:
    if y is None:
        return None, None
    values = np.asarray(y)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise Unprocessable(field, "labels contain NaN or infinite values")
    uniques, codes = np.unique(
        values.astype(str) if values.dtype.kind == "O" else values, return_inverse=True
    )
    if len(uniques) > MAX_LABEL_CLASSES:
        raise Unprocessable(
            field,
            f"labels of {len(uniques)} distinct values: labels are classes, at most "
            f"{MAX_LABEL_CLASSES} (is this an id column?)",
        )
    names = [str(u) for u in uniques.tolist()]
    chars = sum(len(n) for n in names)
    if chars > MAX_LABEL_CHARS:
        raise Unprocessable(
            field,
            f"the {len(names)} class names hold {chars} characters; at most {MAX_LABEL_CHARS}",
        )
    return codes.astype(np.int64), names


# A parquet file's metadata (its footer) read takes 5 times its size in memory for wide row
# groups, 15 times for tiny ones: an 89 MB file of 100,000 one-row groups (a 49 MB footer)
# grew the API by 717 MB on each of the upload's three reads. 16 MiB is about 85,000 columns
# of one row group, with their statistics.
MAX_PARQUET_FOOTER = 16 << 20


def _check_parquet_footer(path: Path) -> None:
    """The footer's length from the file's last 8 bytes (4 of length, then b"PAR1"), before
    pyarrow reads it; a file that does not end so is left to pyarrow to refuse."""
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - 8))
        tail = f.read(8)
    footer = int.from_bytes(tail[:4], "little") if tail[4:] == b"PAR1" else 0
    if footer > MAX_PARQUET_FOOTER:
        raise Unprocessable(
            "file",
            f"the parquet file's metadata (its footer) is {footer} bytes; at most "
            f"{MAX_PARQUET_FOOTER}: write it in fewer, larger row groups (pyarrow's "
            "row_group_size), or upload an .npy",
        )


def _stream_table(
    path: Path, fmt: str, label_column: str | None, max_decoded_bytes: int, header: bool | None
) -> StreamedData:
    import pyarrow.parquet as pq

    if fmt == "parquet":  # compressed columns: bound what they decode to first
        _check_parquet_footer(path)
        try:
            meta = pq.ParquetFile(path).metadata
        except Exception as exc:  # pyarrow raises several kinds for a broken footer
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise Unprocessable("file", f"could not read the parquet file: {message}") from exc
        nbytes = meta.num_rows * meta.num_columns * 8
        if nbytes > max_decoded_bytes:
            raise _too_large("file", nbytes, max_decoded_bytes)
        check_width(meta.num_columns - (label_column is not None))
    table = TableStream(path, fmt, label_column, header)
    check_width(len(table.features))
    nbytes = table.n_rows * len(table.features) * 4
    if nbytes > max_decoded_bytes:
        raise _too_large("file", nbytes, max_decoded_bytes)
    codes, label_names = _encode_labels(table.y)
    return StreamedData(
        n_rows=table.n_rows,
        n_features=len(table.features),
        blocks=table.blocks,
        y=codes,
        feature_names=table.features,
        label_names=label_names,
    )


def validate_shape(n_rows: int, n_features: int, image_shape: list[int] | None) -> None:
    """The rules on a matrix's size every dataset obeys, checked before its rows are read."""
    if n_features == 0:
        raise Unprocessable("file", "the data have zero columns")
    if n_rows < 2:
        raise Unprocessable("file", f"need at least 2 rows to train and validate, got {n_rows}")
    if image_shape is not None and math.prod(image_shape) != n_features:  # no int64 wrap
        raise Unprocessable(
            "image_shape",
            f"{'x'.join(map(str, image_shape))} = {math.prod(image_shape)} does not match "
            f"the {n_features} features",
        )
