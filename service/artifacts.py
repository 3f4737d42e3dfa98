"""Content-addressed artifact store: a local folder, or an object store (service.object_store).

Every blob is named by its sha256 (`sha256/ab/abcdef...`) and checked against its name on
every read, or, where the caller knows it, against its xxh3-64: a dataset's chunks are read
gigabytes at a time, and xxh3 checks them about 15 times faster (docs/batch.md). A
write is visible under its final name only when complete: in a folder it is written to a
temporary file and renamed into place; in an object store it is one PUT (or one completed
multipart upload). A job's checkpoint lives in the same store, under
`checkpoints/<job id>.pt`, and is replaced atomically each epoch.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

import xxhash

from service.errors import InsufficientStorage, ServiceError, ServiceUnavailable
from service.tmpfiles import locked_temp, sweep

log = logging.getLogger(__name__)
T = TypeVar("T")
CHUNK_BYTES = 1 << 20
NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class ArtifactCorrupted(ServiceError):
    status, title, slug = 500, "Artifact Corrupted", "artifact-corrupted"


class ArtifactMissing(ServiceError):
    status, title, slug = 500, "Artifact Missing", "artifact-missing"


class StorageFull(InsufficientStorage):
    """A write found no space (ENOSPC, or over a quota); what it wrote was removed."""


class StoreUnavailable(ServiceUnavailable):
    """The object store did not answer (unreachable, timing out, 5xx): try again soon."""

    slug = "artifact-store-unavailable"
    retry_after_s = 5

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"the artifact store is unavailable ({detail}); retry in {self.retry_after_s} s",
            retry_after_s=self.retry_after_s,
        )


class StoreRefused(ServiceError):
    """The object store refused the service's credentials (401, 403): no retry mends that;
    an operator does (the details are in the server's log, not in the answer)."""

    status, title, slug = 500, "Artifact Store Refused", "artifact-store-refused"

    def __init__(self) -> None:
        super().__init__(
            "the artifact store refused this service's credentials or permissions; an "
            "operator must fix AESVC_ARTIFACT_URL's credentials (the server's log says more)"
        )


@contextmanager
def no_space_is_storage_full(folder: Path, what: str) -> Iterator[None]:
    """Turn "no space left on device" (or over quota) while writing under `folder` into
    StorageFull (507), naming the folder; any other error passes unchanged."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in NO_SPACE_ERRNOS:
            raise
        raise StorageFull(
            f"no space left on the disk holding {folder} ({os.strerror(exc.errno)}) while "
            f"writing {what}; nothing was stored. Free space there (or grow the volume), "
            "then retry"
        ) from exc


def check_sha256(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256 digest: {sha256!r}")
    return sha256


def blob_key(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{check_sha256(sha256)}"


def retry_store(
    action: Callable[[], T],
    *,
    what: str,
    give_up_after_s: float = 120.0,
    stopping: threading.Event | None = None,
    first_delay_s: float = 0.5,
    max_delay_s: float = 10.0,
) -> T:
    """Run `action`; while the store is unavailable, wait (backing off) and run it again.

    For a job's writes and reads (a checkpoint, its weights, its data): a request gets
    503 at once, a job outlasts a short outage. Actions must be safe to repeat (a PUT is).
    """
    deadline = time.monotonic() + give_up_after_s
    delay_s = first_delay_s
    while True:
        try:
            return action()
        except StoreUnavailable as exc:
            if time.monotonic() + delay_s > deadline or (stopping and stopping.is_set()):
                raise
            log.warning("%s: %s; retrying in %.1f s", what, exc.detail, delay_s)
        time.sleep(delay_s)
        delay_s = min(delay_s * 2, max_delay_s)


@dataclass(frozen=True)
class StoredArtifact:
    sha256: str
    size_bytes: int


class Checkpoint(ABC):
    """One job's checkpoint: written whole or not at all, read back, removed when done."""

    uri: str

    @abstractmethod
    def read(self) -> bytes | None:
        """The bytes, or None when there is no checkpoint."""

    @abstractmethod
    def write(self, data: bytes | memoryview) -> None: ...

    @abstractmethod
    def delete(self) -> None: ...

    def exists(self) -> bool:
        return self.read() is not None


class FolderCheckpoint(Checkpoint):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.uri = str(path)

    def read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def exists(self) -> bool:
        return self.path.exists()

    def write(self, data: bytes | memoryview) -> None:
        with (
            no_space_is_storage_full(self.path.parent, f"the checkpoint {self.path.name}"),
            locked_temp(self.path.parent, name=self.path.name) as (file, tmp_path),
        ):
            file.write(data)
            file.flush()
            os.replace(tmp_path, self.path)

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)


class ArtifactStore(ABC):
    """What the service needs of a store of bytes; see FolderStore and ObjectStore."""

    url: str

    def put_bytes(
        self, data: bytes, *, before_publish: Callable[[str], None] | None = None
    ) -> StoredArtifact:
        return self.put_chunks([data], before_publish=before_publish)

    def put_stream(self, stream: BinaryIO) -> StoredArtifact:
        return self.put_chunks(iter(lambda: stream.read(CHUNK_BYTES), b""))

    @abstractmethod
    def put_chunks(
        self, chunks: Iterable[bytes], *, before_publish: Callable[[str], None] | None = None
    ) -> StoredArtifact:
        """Store the bytes under their sha256. `before_publish(sha256)` runs once the name
        is known and before the blob can appear under it (an upload records it there)."""

    @abstractmethod
    def get_bytes(self, sha256: str, *, xxh3: str | None = None) -> bytes:
        """The blob, checked against its xxh3 where given (fast_checksum), else its sha256:
        ArtifactMissing, ArtifactCorrupted, StoreUnavailable."""

    def read_chunks(self, sha256: str) -> Iterator[bytes | memoryview]:
        """The blob a chunk at a time, never more than a chunk held, checked against its
        sha256 as it is read: ArtifactCorrupted after the last chunk where it differs. The
        blob is opened at the call (ArtifactMissing, StoreUnavailable then, before any chunk)."""
        return _checked(sha256, self._open_chunks(sha256))

    def verify(self, sha256: str) -> int:
        """Read the blob through and check it (read_chunks' errors); its size in bytes."""
        return sum(len(chunk) for chunk in self.read_chunks(sha256))

    @abstractmethod
    def _open_chunks(self, sha256: str) -> Iterator[bytes | memoryview]:
        """The blob as stored, CHUNK_BYTES at a time; opened before the iterator returns."""

    @abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def delete(self, sha256: str) -> None: ...

    @abstractmethod
    def checkpoint(self, job_id: str) -> Checkpoint: ...

    def sweep_abandoned(self) -> list[Path]:
        """Temporary files of writers that died mid-write."""
        return []

    def check(self) -> None:  # noqa: B027 (a folder needs no check; it is made on write)
        """Raise StoreMisconfigured when the store cannot be used (checked at start-up)."""

    @staticmethod
    def verified(sha256: str, data: bytes, xxh3: str | None = None) -> bytes:
        if xxh3 is not None:
            ok, check = fast_checksum(data) == xxh3, "xxh3"
        else:
            ok, check = hashlib.sha256(data).hexdigest() == sha256, "sha256"
        if not ok:
            raise ArtifactCorrupted(
                f"artifact {sha256} failed its {check} check; it will not be served"
            )
        return data


def _checked(sha256: str, chunks: Iterator[bytes | memoryview]) -> Iterator[bytes | memoryview]:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != sha256:
        raise ArtifactCorrupted(f"artifact {sha256} failed its sha256 check; it will not be served")


def _file_chunks(file: BinaryIO) -> Iterator[bytes]:
    with file:
        while chunk := file.read(CHUNK_BYTES):
            yield chunk


def fast_checksum(data: bytes | memoryview) -> str:
    """The xxh3-64 of `data`, hex: a chunk's check on read (not its name; not for trust)."""
    return xxhash.xxh3_64_hexdigest(data)


class StoreMisconfigured(ValueError):
    """AESVC_ARTIFACT_URL (or the credentials beside it) cannot be used: refused at start."""


class FolderStore(ArtifactStore):
    """A local folder (or a shared volume mounted on every machine)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def path_of(self, sha256: str) -> Path:
        return self.root / blob_key(sha256)

    def put_chunks(
        self, chunks: Iterable[bytes], *, before_publish: Callable[[str], None] | None = None
    ) -> StoredArtifact:
        with no_space_is_storage_full(self.root, "a blob to the artifact store"):
            return self._put_chunks(chunks, before_publish)

    def _put_chunks(
        self, chunks: Iterable[bytes], before_publish: Callable[[str], None] | None
    ) -> StoredArtifact:
        digest = hashlib.sha256()
        size = 0
        with locked_temp(self.tmp_dir) as (tmp, tmp_path):
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                tmp.write(chunk)
            tmp.flush()
            os.fsync(tmp.fileno())
            sha256 = digest.hexdigest()
            if before_publish is not None:
                before_publish(sha256)
            target = self.path_of(sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_path, target)
        return StoredArtifact(sha256=sha256, size_bytes=size)

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def checkpoint_dir(self) -> Path:
        return self.root / "checkpoints"

    def checkpoint(self, job_id: str) -> FolderCheckpoint:
        return FolderCheckpoint(self.checkpoint_dir / f"{job_id}.pt")

    def sweep_abandoned(self) -> list[Path]:
        """Temporary blobs and checkpoints whose writer died mid-write (see tmpfiles)."""
        return sweep(self.tmp_dir) + sweep(self.checkpoint_dir)

    def get_bytes(self, sha256: str, *, xxh3: str | None = None) -> bytes:
        path = self.path_of(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ArtifactMissing(f"artifact {sha256} is missing from the store") from exc
        return self.verified(sha256, data, xxh3)

    def _open_chunks(self, sha256: str) -> Iterator[bytes]:
        try:
            file = self.path_of(sha256).open("rb")
        except FileNotFoundError as exc:
            raise ArtifactMissing(f"artifact {sha256} is missing from the store") from exc
        return _file_chunks(file)

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self.path_of(sha256).unlink(missing_ok=True)
