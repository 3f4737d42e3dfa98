"""System shared memory for the Open Inference Protocol (Triton's `system_shared_memory`):
regions of the service's own POSIX objects (regular files with one link, opened read-only
where the service may not write, checked to still hold the region at every access), read and
written with pread/pwrite, never mapped (docs/inference.md says why)."""

from __future__ import annotations

import errno
import os
import re
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SHM_DIR = Path("/dev/shm")
MAX_REGIONS = 256  # each holds a descriptor
KEY_PATTERN = re.compile(r"/?[A-Za-z0-9_.-]{1,255}")
FP32 = np.dtype("<f4")
Owner = str | None  # the id of the API key that registered a region; None without auth
REGION, OFFSET = "shared_memory_region", "shared_memory_offset"
BYTE_SIZE = "shared_memory_byte_size"
# opening read-write fails so for an object the service may still read
READ_ONLY_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ETXTBSY}


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


def open_region(
    directory: Path, name: str, key: str, offset: int, byte_size: int, *, uid: int
) -> Region:
    path, obj = directory / key.lstrip("/"), f"shared memory object {key!r}"
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
        raise SharedMemoryError(f"no {obj} (in {directory})") from None
    except OSError as exc:  # ELOOP for a link, EACCES, ...
        raise SharedMemoryError(f"{obj} cannot be opened: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SharedMemoryError(f"{key!r} is not a shared memory object")
        if info.st_uid != uid or info.st_nlink != 1:
            raise SharedMemoryError(
                f"{obj} belongs to uid {info.st_uid} (links: {info.st_nlink}); only the "
                f"service's own objects (uid {uid}, one link) may be registered"
            )
        if info.st_size < offset + byte_size:
            needs = f"offset {offset} + byte_size {byte_size} = {offset + byte_size}"
            raise SharedMemoryError(f"{obj} holds {info.st_size} bytes; the region needs {needs}")
    except BaseException:
        os.close(fd)
        raise
    return Region(name, key, offset, byte_size, fd, writable)


@dataclass(frozen=True)
class TensorRef:
    """Where a tensor lies: `byte_size` bytes from `offset` in a registered region."""

    region: str
    byte_size: int
    offset: int = 0

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any] | None, what: str) -> TensorRef | None:
        """The tensor's shared memory parameters; None where it names no region."""
        params = parameters or {}
        if not params.keys() & {REGION, BYTE_SIZE, OFFSET}:
            return None
        region = params.get(REGION)
        expected = f"{REGION} (a string) and {BYTE_SIZE} (bytes), and {OFFSET} (default 0)"
        if not isinstance(region, str) or not region:
            raise SharedMemoryError(f"{what}: {REGION} {region!r} is not a region name; {expected}")

        def count(field: str, default: int | None = None) -> int:
            value = params.get(field, default)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise SharedMemoryError(
                    f"{what}: {field} {value!r} is not a count of bytes; {expected}"
                )
            return value

        return cls(region, count(BYTE_SIZE), count(OFFSET, 0))

    def parameters(self, written: int) -> dict[str, Any]:
        """The parameters of a response output written here (`written` bytes)."""
        params: dict[str, Any] = {REGION: self.region, BYTE_SIZE: written}
        if self.offset:
            params[OFFSET] = self.offset
        return params


@dataclass(kw_only=True, eq=False)
class SharedMemoryRegistry:
    enabled: bool
    directory: Path = SHM_DIR
    prefix: str = "aesvc-"
    regions_per_owner: int = MAX_REGIONS // 8
    max_tensor_bytes: int = 1 << 30
    service_uid: int = field(default_factory=os.geteuid)
    _regions: dict[tuple[Owner, str], Region] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def _check_enabled(self) -> None:
        if not self.enabled:
            raise SharedMemoryError(
                "system shared memory is off in this service; an operator turns it on with "
                "AESVC_OIP_SHARED_MEMORY=true"
            )

    def client(self, owner: Owner) -> ClientRegions:
        """The regions one client (API key) may name in its tensors."""
        return ClientRegions(self, owner)

    def register(self, name: str, *, owner: Owner, key: str, offset: int, byte_size: int) -> None:
        self._check_enabled()
        if not KEY_PATTERN.fullmatch(key) or key.lstrip("/") in {".", ".."}:
            raise SharedMemoryError(
                f"key {key!r} is not a POSIX shared memory name; expected '/name' with "
                "letters, digits, '_', '.' or '-' (an object in /dev/shm)"
            )
        if not key.lstrip("/").startswith(self.prefix):
            raise SharedMemoryError(
                f"key {key!r}: only objects made for this service may be registered, named "
                f"'/{self.prefix}...' (AESVC_OIP_SHARED_MEMORY_PREFIX)"
            )
        with self._lock:
            held = sum(1 for o, _ in self._regions if o == owner)
            if held >= self.regions_per_owner:
                raise SharedMemoryError(
                    f"this key holds {held} regions, its share of the {MAX_REGIONS} "
                    "(AESVC_OIP_SHARED_MEMORY_REGIONS_PER_KEY); unregister one first"
                )
            if (owner, name) in self._regions:
                raise SharedMemoryError(
                    f"a region named {name!r} is already registered; unregister it first"
                )
            if len(self._regions) >= MAX_REGIONS:
                raise SharedMemoryError(
                    f"{MAX_REGIONS} regions are registered, the most this service holds; "
                    "unregister one first"
                )
            region = open_region(self.directory, name, key, offset, byte_size, uid=self.service_uid)
            self._regions[owner, name] = region

    def unregister(self, name: str | None = None, *, owner: Owner) -> None:
        """One of the owner's regions, or all of them; a name not registered is no error."""
        self._check_enabled()
        with self._lock:
            keys = [k for k in self._regions if k[0] == owner and name in (None, k[1])]
            for key in keys:
                os.close(self._regions.pop(key).fd)

    def status(self, name: str | None = None, *, owner: Owner) -> list[dict[str, Any]]:
        with self._lock:
            if name is None:
                return [r.status() for (o, _), r in self._regions.items() if o == owner]
            if (owner, name) not in self._regions:
                raise SharedMemoryError(f"no system shared memory region named {name!r}")
            return [self._regions[owner, name].status()]

    @contextmanager
    def opened(
        self, ref: TensorRef, what: str, *, owner: Owner, output: bool
    ) -> Iterator[tuple[int, slice]]:
        """A descriptor of `ref`'s object of its own, and where `ref` lies in it. The lock is
        held only to find and duplicate it: the copy runs without it, and the region may be
        unregistered meanwhile (its descriptor closed, and its number reused) harmlessly."""
        self._check_enabled()
        with self._lock:
            region = self._regions.get((owner, ref.region))
            if region is None:
                raise SharedMemoryError(
                    f"{what}: no system shared memory region named {ref.region!r} is registered"
                )
            if output and not region.writable:
                raise SharedMemoryError(
                    f"{what}: region {ref.region!r} is read-only to the service ({region.key!r} "
                    "does not let it write)"
                )
            where = region.span(ref.offset, ref.byte_size, what)
            fd = os.dup(region.fd)
        try:
            yield fd, where
        except OSError as exc:
            raise SharedMemoryError(
                f"{what}: region {ref.region!r} could not be {'written' if output else 'read'}: "
                f"{exc.strerror}"
            ) from None
        finally:
            os.close(fd)

    def close(self) -> None:
        with self._lock:
            for region in self._regions.values():
                os.close(region.fd)
            self._regions.clear()


@dataclass(frozen=True)
class ClientRegions:
    """One client's view of the registry: the tensors it names resolve among its regions."""

    registry: SharedMemoryRegistry
    owner: Owner

    def _check_size(self, nbytes: int, what: str) -> None:
        most = self.registry.max_tensor_bytes
        if nbytes > most:
            raise SharedMemoryError(
                f"{what} takes {nbytes} bytes, past the {most} a tensor in shared memory may "
                "hold (AESVC_OIP_SHARED_MEMORY_MAX_TENSOR_BYTES); send fewer rows"
            )

    def read_fp32(self, ref: TensorRef, count: int, what: str) -> np.ndarray:
        """A copy of `count` FP32 values (`byte_size` must be exactly their size)."""
        if ref.byte_size != count * FP32.itemsize:
            raise SharedMemoryError(
                f"{what}: {BYTE_SIZE} {ref.byte_size} does not hold its shape's {count} FP32 "
                f"values ({count * FP32.itemsize} bytes)"
            )
        self._check_size(ref.byte_size, what)
        values = np.empty(count, dtype=FP32)
        view = values.data.cast("B")
        with self.registry.opened(ref, what, owner=self.owner, output=False) as (fd, where):
            done = 0
            while done < ref.byte_size:  # Linux moves at most about 2 GiB a call
                read = os.preadv(fd, [view[done:]], where.start + done)
                if read == 0:  # the object was truncated since span() looked
                    raise SharedMemoryError(
                        f"{what}: the object behind region {ref.region!r} shrank under the read"
                    )
                done += read
        return values.astype(np.float32, copy=False)  # no copy on a little-endian host

    def check_output(self, ref: TensorRef, nbytes: int, what: str) -> None:
        """Whether `nbytes` will fit where `ref` says, before the request runs."""
        self._check_size(nbytes, what)
        if nbytes > ref.byte_size:
            raise SharedMemoryError(
                f"{what}: {BYTE_SIZE} {ref.byte_size} is too small; the output takes {nbytes} bytes"
            )
        with self.registry.opened(ref, what, owner=self.owner, output=True):
            pass

    def write(self, ref: TensorRef, array: np.ndarray, what: str) -> int:
        """Writes `array`'s bytes at `ref` (checked to fit); answers how many."""
        data = np.ascontiguousarray(array).data.cast("B")
        if data.nbytes > ref.byte_size:
            self.check_output(ref, data.nbytes, what)  # raises, and says why
        with self.registry.opened(ref, what, owner=self.owner, output=True) as (fd, where):
            done = 0
            while done < data.nbytes:
                done += os.pwrite(fd, data[done:], where.start + done)
        return data.nbytes
