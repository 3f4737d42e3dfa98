"""Turn an uploaded file into a float32 matrix (and optional labels), or say exactly why not."""

from __future__ import annotations

import io
import math
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.datasets.columns import ColumnError, numeric_column, read_csv
from service.errors import Unprocessable, UnsupportedMediaType

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
    header: bool | None = None,
) -> ParsedData:
    """`max_decoded_bytes` bounds the arrays a file decodes to, checked from its headers
    before anything is decoded: a few kB of compressed zeros must not claim gigabytes.
    `header` (csv only): None refuses a first row of numbers (see datasets.columns)."""
    if path.stat().st_size == 0:
        raise Unprocessable("file", "the file is empty")
    if header is not None and fmt != "csv":
        raise Unprocessable("header", f"only csv files have a header row, not {fmt}")
    if fmt in ("csv", "parquet"):
        try:
            return _parse_table(path, fmt, label_column, max_decoded_bytes, header)
        except ColumnError as exc:
            raise Unprocessable(exc.field, exc.message) from exc
    if label_column:
        raise Unprocessable(
            "label_column", f"only csv and parquet files have named columns, not {fmt}"
        )
    if fmt == "npy":
        with path.open("rb") as fp:
            _check_npy_header(fp, "file", max_decoded_bytes)
        return _from_arrays(_load_npy(path.read_bytes(), "file"), None)
    return _parse_npz(path, max_decoded_bytes)


def _too_large(field: str, nbytes: int, max_decoded_bytes: int) -> Unprocessable:
    return Unprocessable(
        field,
        f"the data decode to {nbytes} bytes, more than the {max_decoded_bytes} an upload may "
        "hold (AESVC_MAX_UPLOAD_BYTES)",
    )


def _check_npy_header(fp: io.BufferedIOBase | zipfile.ZipExtFile, field: str, limit: int) -> int:
    """The bytes an .npy stream's array takes, from its header; refused past `limit`."""
    try:
        version = np.lib.format.read_magic(fp)
        fmt = np.lib.format
        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        header = read(fp)  # (shape, fortran order, dtype)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise Unprocessable(field, f"not a readable .npy array ({exc})") from exc
    shape, _, dtype = header
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > limit:
        raise _too_large(field, nbytes, limit)
    return nbytes


def _load_npy(data: bytes, field: str) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError, MemoryError) as exc:
        raise Unprocessable(field, f"not a readable .npy array ({exc})") from exc
    if not isinstance(array, np.ndarray):
        raise Unprocessable(field, "expected a single .npy array")
    return array


def _parse_npz(path: Path, max_decoded_bytes: int) -> ParsedData:
    unreadable = (ValueError, OSError, EOFError, MemoryError, zipfile.BadZipFile, zlib.error)
    try:
        archive = np.load(path, allow_pickle=False)
    except unreadable as exc:
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
        try:
            X = archive["X"]
            y = archive["y"] if "y" in archive.files else None
        except unreadable as exc:
            raise Unprocessable("file", f"unreadable array in the .npz ({exc})") from exc
    return _from_arrays(X, y)


def _from_arrays(X: np.ndarray, y: np.ndarray | None) -> ParsedData:
    if X.ndim != 2:
        raise Unprocessable("file", f"expected a 2-D array (rows, features), got shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise Unprocessable("file", f"expected a numeric array, got dtype {X.dtype}")
    if y is not None and (y.ndim != 1 or len(y) != len(X)):
        raise Unprocessable("y", f"labels must be 1-D with {len(X)} entries, got shape {y.shape}")
    names = [f"x{i}" for i in range(X.shape[1])]
    codes, label_names = _encode_labels(y)
    return ParsedData(
        X=np.ascontiguousarray(X, dtype=np.float32),
        y=codes,
        feature_names=names,
        label_names=label_names,
    )


def _encode_labels(y: np.ndarray | None) -> tuple[np.ndarray | None, list[str] | None]:
    if y is None:
        return None, None
    values = np.asarray(y)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise Unprocessable("label_column", "labels contain NaN or infinite values")
    uniques, codes = np.unique(
        values.astype(str) if values.dtype.kind == "O" else values, return_inverse=True
    )
    return codes.astype(np.int64), [str(u) for u in uniques.tolist()]


def _read_table(path: Path, fmt: str, header: bool | None):  # type: ignore[no-untyped-def]
    import pyarrow as pa
    import pyarrow.parquet as pq

    if fmt == "csv":
        return read_csv(path, header=header)[1]
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        message = str(exc).splitlines()[0]
        raise Unprocessable("file", f"could not read the {fmt} file: {message}") from exc


def _parse_table(
    path: Path, fmt: str, label_column: str | None, max_decoded_bytes: int, header: bool | None
) -> ParsedData:
    import pyarrow.parquet as pq

    if fmt == "parquet":  # compressed columns: bound what they decode to first
        try:
            meta = pq.ParquetFile(path).metadata
        except Exception as exc:  # pyarrow raises several kinds for a broken footer
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise Unprocessable("file", f"could not read the parquet file: {message}") from exc
        nbytes = meta.num_rows * meta.num_columns * 8
        if nbytes > max_decoded_bytes:
            raise _too_large("file", nbytes, max_decoded_bytes)
    table = _read_table(path, fmt, header)
    names = [str(n) for n in table.column_names]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise Unprocessable(
            "file", f"column names must be unique; {repeated} appear more than once"
        )
    if label_column is not None and label_column not in names:
        raise Unprocessable("label_column", f"no column named {label_column!r} (columns: {names})")
    features = [n for n in names if n != label_column]
    if not features:
        raise Unprocessable("file", "the file has no feature columns")
    columns = [numeric_column(table, name) for name in features]
    X = np.stack(columns, axis=1) if columns else np.zeros((table.num_rows, 0), np.float32)
    y = None
    if label_column is not None:
        y = table.column(label_column).to_numpy(zero_copy_only=False)
    codes, label_names = _encode_labels(y)
    return ParsedData(X=X, y=codes, feature_names=features, label_names=label_names)


def validate_matrix(X: np.ndarray, image_shape: list[int] | None) -> None:
    """The rules every dataset obeys, whatever its format."""
    n_rows, n_features = X.shape
    if n_features == 0:
        raise Unprocessable("file", "the data have zero columns")
    if n_rows < 2:
        raise Unprocessable("file", f"need at least 2 rows to train and validate, got {n_rows}")
    bad = ~np.isfinite(X)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise Unprocessable(
            "file",
            f"{int(bad.sum())} NaN or infinite values in {len(rows)} rows; the first is row "
            f"{int(rows[0])} (0-based, header excluded)",
            bad_values=int(bad.sum()),
            first_bad_row=int(rows[0]),
        )
    if image_shape is not None and math.prod(image_shape) != n_features:  # no int64 wrap
        raise Unprocessable(
            "image_shape",
            f"{'x'.join(map(str, image_shape))} = {math.prod(image_shape)} does not match "
            f"the {n_features} features",
        )
