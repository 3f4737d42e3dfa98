"""An .npy body read in place: what np.save writes for a C-ordered little-endian float32 or
float64 matrix is viewed where it lies (numpy's own reader copies the data out). Used by
the inference codecs (request bodies) and the chunked datasets (stored chunks)."""

from __future__ import annotations

import re

import numpy as np

# The header np.save writes for such a matrix (padded with spaces to a multiple of 64 bytes
# and ending in a newline).
_PLAIN_NPY_HEADER = re.compile(
    rb"\{'descr': '<f([48])', 'fortran_order': False, 'shape': \((\d+), (\d+)\), \} *\n"
)


def plain_npy_view(body: bytes | bytearray) -> np.ndarray | None:
    """The matrix of a plain .npy body as a view of `body` (read-only for bytes, writable
    for a bytearray), or None for anything else (numpy's reader then decides, and words any
    error): another dtype, order or rank, a length that does not match, unaligned data."""
    if len(body) < 12 or body[:6] != b"\x93NUMPY" or body[6] not in (1, 2, 3):
        return None
    start = 10 if body[6] == 1 else 12  # version 1: a 2-byte header length; 2 and 3: 4
    header_len = int.from_bytes(body[8:start], "little")
    match = _PLAIN_NPY_HEADER.fullmatch(body, start, start + header_len)
    if match is None:
        return None
    itemsize, rows, columns = (int(group) for group in match.groups())
    offset = start + header_len
    if len(body) - offset != rows * columns * itemsize:
        return None
    dtype = np.float32 if itemsize == 4 else np.float64
    array = np.frombuffer(body, dtype=dtype, count=rows * columns, offset=offset)
    return array.reshape(rows, columns) if array.flags.aligned else None
