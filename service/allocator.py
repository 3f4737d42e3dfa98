"""glibc malloc settings for the serving process.

A large request (an 8192-row .npy body is 2 MiB) allocates and frees a few megabytes per
request: the body chunks, the joined body, the arrays in and out. glibc's defaults give
each such block back to the kernel when it is freed (blocks over the mmap threshold are
unmapped; a free top of heap over the trim threshold is trimmed), so the next request
faults every page in again, which costs more server CPU per large request than the rest of
its handling (the figures are in docs/performance.md).

`tune_malloc(top_pad)` keeps `top_pad` bytes of slack at the top of the heap, trims only
past twice that, and serves blocks under min(top_pad, 32 MiB) from the heap. The memory
kept is bounded by those figures; it is reused by the next request rather than faulted in.
It applies to glibc only (elsewhere it does nothing and says so).
"""

from __future__ import annotations

import ctypes
import logging
from typing import Any

log = logging.getLogger(__name__)

# mallopt parameters, from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
MAX_MMAP_THRESHOLD = 32 << 20  # glibc refuses more on 64-bit (HEAP_MAX_SIZE / 2)


def _glibc() -> Any | None:
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 (present in glibc only)
        return libc
    except (OSError, AttributeError):
        return None


def tune_malloc(top_pad_bytes: int) -> dict[str, int] | None:
    """Set glibc's top pad, trim and mmap thresholds for this process; what was set, or
    None where nothing was (top_pad_bytes <= 0, not glibc, or glibc refused a value)."""
    if top_pad_bytes <= 0:
        return None
    libc = _glibc()
    if libc is None:
        log.info("malloc: not glibc, allocator left as it is")
        return None
    values = {
        "top_pad": top_pad_bytes,
        "trim_threshold": 2 * top_pad_bytes,
        "mmap_threshold": min(top_pad_bytes, MAX_MMAP_THRESHOLD),
    }
    params = {
        "top_pad": M_TOP_PAD,
        "trim_threshold": M_TRIM_THRESHOLD,
        "mmap_threshold": M_MMAP_THRESHOLD,
    }
    for name, value in values.items():
        if libc.mallopt(ctypes.c_int(params[name]), ctypes.c_int(value)) != 1:
            log.warning("malloc: glibc refused %s=%d", name, value)
            return None
    log.info("malloc: %s", ", ".join(f"{k}={v}" for k, v in values.items()))
    return values
