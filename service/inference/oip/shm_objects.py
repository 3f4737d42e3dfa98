"""The POSIX shared memory object behind a registered region: opened only where it is a
regular file of the service's own with one link, read-only where the service may not write,
and checked to still hold the region at every access."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# opening read-write fails so for an object the service may still read
READ_ONLY_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ETXTBSY}
REGION, OFFSET, BYTE_SIZE = (
    "shared_memory_region",
    "shared_memory_offset",
    "shared_memory_byte_size",
)


class SharedMemoryError(ValueError):
    """A request the extension refuses (400): the message says what was expected."""


@dataclass
class Region:
    name: str
    key: str
    offset: int  # into the object
    byte_size: int
    fd: int  # the object, open read-write, or read-only where the service may not write
    writable: bool

    def status(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("name", "key", "offset", "byte_size")}

    def span(self, offset: int, byte_size: int, what: str) -> slice:
        """Where `byte_size` bytes from `offset` in the region lie in the object, once the object
        is checked to still hold the region."""
        if offset + byte_size > self.byte_size:
            raise SharedMemoryError(
                f"{what}: {OFFSET} {offset} + {BYTE_SIZE} {byte_size} runs past the "
                f"end of region {self.name!r} ({self.byte_size} bytes)"
            )
        size = os.fstat(self.fd).st_size
        if size < self.offset + self.byte_size:
            raise SharedMemoryError(
                f"{what}: the object {self.key!r} behind region {self.name!r} shrank to "
                f"{size} bytes; unregister the region and register it again"
            )
        start = self.offset + offset
        return slice(start, start + byte_size)

    def close(self) -> None:
        os.close(self.fd)


def open_region(
    directory: Path, name: str, key: str, offset: int, byte_size: int, *, uid: int
) -> Region:
    path = directory / key.lstrip("/")
    # O_NONBLOCK: a FIFO put there must not hang the open (it is refused below, not regular)
    flags = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        try:
            fd, writable = os.open(path, os.O_RDWR | flags), True
        except OSError as exc:
            if exc.errno not in READ_ONLY_ERRNOS:
                raise
            fd, writable = os.open(path, os.O_RDONLY | flags), False
    except FileNotFoundError:
        raise SharedMemoryError(f"no shared memory object {key!r} (in {directory})") from None
    except OSError as exc:  # ELOOP for a link, EACCES, ...
        raise SharedMemoryError(
            f"shared memory object {key!r} cannot be opened: {exc.strerror}"
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SharedMemoryError(f"{key!r} is not a shared memory object")
        if info.st_uid != uid or info.st_nlink != 1:
            raise SharedMemoryError(
                f"shared memory object {key!r} belongs to uid {info.st_uid} (links: "
                f"{info.st_nlink}); only the service's own objects (uid {uid}, one link) may "
                "be registered"
            )
        if info.st_size < offset + byte_size:
            raise SharedMemoryError(
                f"shared memory object {key!r} holds {info.st_size} bytes; the region needs "
                f"offset {offset} + byte_size {byte_size} = {offset + byte_size}"
            )
    except BaseException:
        os.close(fd)
        raise
    return Region(name, key, offset, byte_size, fd, writable)
